"""What the people and the other services of the story do, and what they look at: customers
and staff through HTTP, the payment gateway, provisioning, the abuse desk and monitoring
through their topics. Shared by the end-to-end story modules."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx

from contracts import SYSTEM_ACTOR, Actor, ActorKind, Money, PaymentReceived, ServiceDelivered
from contracts.inbound import (
    IncidentOpened,
    IncidentOpenedData,
    IncidentResolved,
    IncidentResolvedData,
    IncidentSeverity,
    PaymentReceivedData,
    ServiceDeliveredData,
    ViolationConfirmed,
    ViolationConfirmedData,
    ViolationLifted,
    ViolationLiftedData,
)
from tests.apps import bearer
from tests.e2e.system import OutsideWorld, System
from tests.helpers import eventually

ADA = bearer("customer", "c-ada", name="Ada Lovelace", email="ada@example.com", locale="de")
BOB = bearer("customer", "c-bob", name="Bob", email="bob@example.com")
STAFF = bearer("staff", "s-grace", name="Grace")
GATEWAY = Actor(kind=ActorKind.SERVICE, id="payment-gateway", name="Payment gateway")
ABUSE_DESK = Actor(kind=ActorKind.SERVICE, id="abuse-desk", name="Abuse desk")
MONITORING = Actor(kind=ActorKind.SERVICE, id="monitoring", name="Monitoring")

#: Kafka-borne effects on a slow, shared machine: wait long before calling them missing.
PATIENCE = 90.0

Json = dict[str, Any]


async def get_json(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    response = await http.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def post_json(
    http: httpx.AsyncClient, url: str, body: Json, headers: dict[str, str], status: int = 200
) -> Any:
    response = await http.post(url, json=body, headers=headers)
    assert response.status_code == status, f"{url} {body}: {response.status_code} {response.text}"
    return response.json()


def month_after(paid_until: date) -> date:
    """The new paid-until after a renewal of one month."""
    start = paid_until + timedelta(days=1)
    year, month = start.year + start.month // 12, start.month % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


# --- the customer panel -----------------------------------------------------------------------


async def place(
    http: httpx.AsyncClient, system: System, plan: str = "vps-s", who: dict[str, str] = ADA
) -> Json:
    response = await http.post(
        f"{system.url('orders')}/orders",
        json={"plan": plan, "period_months": 1, "comment": "web shop"},
        headers={**who, "Idempotency-Key": str(uuid4())},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def order_of(
    http: httpx.AsyncClient, system: System, order_id: str, who: dict[str, str] = ADA
) -> Json:
    return dict(await get_json(http, f"{system.url('orders')}/orders/{order_id}", who))


async def order_in(
    http: httpx.AsyncClient,
    system: System,
    order_id: str,
    status: str,
    who: dict[str, str] = ADA,
) -> Any:
    async def reached() -> Any:
        order = await order_of(http, system, order_id, who)
        return order if order["status"] == status else None

    return await eventually(reached, timeout=PATIENCE, interval=0.5)


async def invoices_of(
    http: httpx.AsyncClient, system: System, order_id: str, who: dict[str, str] = ADA
) -> list[Json]:
    page = await get_json(http, f"{system.url('billing')}/invoices?order_id={order_id}", who)
    return list(page["items"])


async def first_invoice(http: httpx.AsyncClient, system: System, order_id: str) -> Any:
    async def found() -> Any:
        items = await invoices_of(http, system, order_id)
        return items[0] if items else None

    return await eventually(found, timeout=PATIENCE, interval=0.5)


async def invoice_where(
    http: httpx.AsyncClient, system: System, order_id: str, **fields: Any
) -> Any:
    """The order's invoice with these fields, once it is there."""

    async def found() -> Any:
        for invoice in await invoices_of(http, system, order_id):
            if all(invoice[name] == value for name, value in fields.items()):
                return invoice
        return None

    return await eventually(found, timeout=PATIENCE, interval=0.5)


async def banners(
    http: httpx.AsyncClient, system: System, placement: str, who: dict[str, str] = ADA
) -> list[Json]:
    page = await get_json(
        http, f"{system.url('notifier')}/banners?placement={placement}&limit=200", who
    )
    return list(page["items"])


async def banners_of(
    http: httpx.AsyncClient, system: System, order_id: str, placement: str, kind: str
) -> list[Json]:
    return [
        banner
        for banner in await banners(http, system, placement)
        if banner["order_id"] == order_id and banner["kind"] == kind
    ]


async def banner_shown(
    http: httpx.AsyncClient, system: System, order_id: str, placement: str, kind: str
) -> Json:
    async def shown() -> Any:
        return await banners_of(http, system, order_id, placement, kind)

    [banner] = await eventually(shown, timeout=PATIENCE, interval=0.5)
    return dict(banner)


async def banner_gone(
    http: httpx.AsyncClient, system: System, order_id: str, placement: str, kind: str
) -> None:
    async def gone() -> bool:
        return not await banners_of(http, system, order_id, placement, kind)

    await eventually(gone, timeout=PATIENCE, interval=0.5)


async def mail_with(system: System, subject: str) -> Any:
    """The one mail in the folder with this subject, once it is there."""

    async def arrived() -> Any:
        return [mail for mail in system.mails() if mail["Subject"] == subject]

    found = await eventually(arrived, timeout=PATIENCE, interval=0.5)
    assert len(found) == 1, [mail["Subject"] for mail in found]
    return found[0]


async def journal_has(
    http: httpx.AsyncClient,
    system: System,
    order_id: str,
    wanted: set[str],
    who: dict[str, str] = ADA,
) -> Json:
    """The order's journal page once it holds every wanted event type; it must verify."""
    journal_url = f"{system.url('audit')}/orders/{order_id}/journal"

    async def journaled() -> Any:
        page = await get_json(http, f"{journal_url}?order=oldest&limit=200", who)
        return page if wanted <= {entry["type"] for entry in page["entries"]} else None

    page = await eventually(journaled, timeout=PATIENCE, interval=0.5)
    verified = await get_json(http, f"{journal_url}/verify", who)
    assert verified["status"] == "whole", verified
    return dict(page)


# --- the other services of the provider --------------------------------------------------------


def payment_received(system: System, invoice: Json) -> PaymentReceived:
    """The gateway's event for a payment of the invoice's whole total, now."""
    now = system.now()
    return PaymentReceived(
        occurred_at=now,
        producer="payment-gateway",
        correlation_id=uuid4(),
        actor=GATEWAY,
        data=PaymentReceivedData(
            payment_id=f"pay-{uuid4().hex[:12]}",
            invoice_id=UUID(invoice["id"]),
            amount=Money(**invoice["total"]),
            received_at=now,
        ),
    )


async def pay(world: OutsideWorld, system: System, invoice: Json) -> None:
    await world.send(payment_received(system, invoice))


async def deliver(world: OutsideWorld, system: System, order_id: str, ip: str) -> None:
    now = system.now()
    await world.send(
        ServiceDelivered(
            occurred_at=now,
            producer="provisioning",
            correlation_id=uuid4(),
            actor=SYSTEM_ACTOR,
            order_id=UUID(order_id),
            data=ServiceDeliveredData(main_ip=ip, contract="PKG-VPS-S", starts_on=now.date()),
        )
    )


async def confirm_violation(world: OutsideWorld, system: System, order_id: str, case: str) -> None:
    await world.send(
        ViolationConfirmed(
            occurred_at=system.now(),
            producer="abuse-desk",
            correlation_id=uuid4(),
            actor=ABUSE_DESK,
            order_id=UUID(order_id),
            data=ViolationConfirmedData(case_id=case, reason="spam sent from the server"),
        )
    )


async def lift_violation(world: OutsideWorld, system: System, order_id: str, case: str) -> None:
    await world.send(
        ViolationLifted(
            occurred_at=system.now(),
            producer="abuse-desk",
            correlation_id=uuid4(),
            actor=ABUSE_DESK,
            order_id=UUID(order_id),
            data=ViolationLiftedData(case_id=case, note="mail relay closed"),
        )
    )


def incident_opened(system: System, incident: str, ip: str) -> IncidentOpened:
    """Monitoring's event: it knows the server's IP, not the order."""
    return IncidentOpened(
        occurred_at=system.now(),
        producer="monitoring",
        correlation_id=uuid4(),
        actor=MONITORING,
        data=IncidentOpenedData(
            incident_id=incident,
            main_ip=ip,
            summary="disk failure",
            severity=IncidentSeverity.MAJOR,
        ),
    )


def incident_resolved(system: System, incident: str) -> IncidentResolved:
    return IncidentResolved(
        occurred_at=system.now(),
        producer="monitoring",
        correlation_id=uuid4(),
        actor=MONITORING,
        data=IncidentResolvedData(incident_id=incident),
    )


async def open_incident(world: OutsideWorld, system: System, incident: str, ip: str) -> None:
    await world.send(incident_opened(system, incident, ip))


async def resolve_incident(world: OutsideWorld, system: System, incident: str) -> None:
    await world.send(incident_resolved(system, incident))


# --- whole steps ------------------------------------------------------------------------------


async def paid_order(
    http: httpx.AsyncClient, system: System, world: OutsideWorld, plan: str = "vps-s"
) -> Json:
    """A new order whose first invoice the gateway paid: in progress."""
    order = await place(http, system, plan)
    await pay(world, system, await first_invoice(http, system, order["id"]))
    return dict(await order_in(http, system, order["id"], "in_progress"))


async def processed_order(
    http: httpx.AsyncClient, system: System, world: OutsideWorld, ip: str
) -> Json:
    """A paid order provisioning delivered, once every service has seen it delivered (the
    acceptance ticket is there and the acceptance banner is gone)."""
    order = await paid_order(http, system, world)
    await deliver(world, system, order["id"], ip)
    done = await order_in(http, system, order["id"], "processed")

    async def notifier_knows() -> bool:
        tickets = await get_json(http, f"{system.url('notifier')}/tickets?limit=200", ADA)
        ticketed = any(t["order_id"] == order["id"] for t in tickets["items"])
        return ticketed and not await banners_of(
            http, system, order["id"], "orders_tab", "acceptance"
        )

    await eventually(notifier_knows, timeout=PATIENCE, interval=0.5)
    return dict(done)
