"""The main story, through HTTP and inbound events only, with the four services running as
processes: a customer orders, pays, is served, and every step is in a journal that verifies;
a second customer sees none of it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

from contracts import SYSTEM_ACTOR, Actor, ActorKind, Money, PaymentReceived, ServiceDelivered
from contracts.inbound import PaymentReceivedData, ServiceDeliveredData
from tests.apps import bearer
from tests.e2e.system import OutsideWorld, System
from tests.helpers import eventually

ADA = bearer("customer", "c-ada", name="Ada Lovelace", email="ada@example.com", locale="de")
BOB = bearer("customer", "c-bob", name="Bob", email="bob@example.com")
GATEWAY = Actor(kind=ActorKind.SERVICE, id="payment-gateway", name="Payment gateway")


async def get_json(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    response = await http.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def place(http: httpx.AsyncClient, system: System, plan: str) -> dict[str, Any]:
    response = await http.post(
        f"{system.url('orders')}/orders",
        json={"plan": plan, "period_months": 1, "comment": "web shop"},
        headers={**ADA, "Idempotency-Key": str(uuid4())},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def first_invoice(http: httpx.AsyncClient, system: System, order_id: str) -> Any:
    async def found() -> Any:
        page = await get_json(http, f"{system.url('billing')}/invoices?order_id={order_id}", ADA)
        return page["items"][0] if page["items"] else None

    return await eventually(found)


async def order_in(http: httpx.AsyncClient, system: System, order_id: str, status: str) -> Any:
    async def reached() -> Any:
        order = await get_json(http, f"{system.url('orders')}/orders/{order_id}", ADA)
        return order if order["status"] == status else None

    return await eventually(reached)


async def pay(world: OutsideWorld, invoice: dict[str, Any]) -> None:
    await world.send(
        PaymentReceived(
            occurred_at=datetime.now(UTC),
            producer="payment-gateway",
            correlation_id=uuid4(),
            actor=GATEWAY,
            data=PaymentReceivedData(
                payment_id=f"pay-{uuid4().hex[:8]}",
                invoice_id=UUID(invoice["id"]),
                amount=Money(**invoice["total"]),
                received_at=datetime.now(UTC),
            ),
        )
    )


async def deliver(world: OutsideWorld, order_id: str, ip: str) -> None:
    await world.send(
        ServiceDelivered(
            occurred_at=datetime.now(UTC),
            producer="provisioning",
            correlation_id=uuid4(),
            actor=SYSTEM_ACTOR,
            order_id=UUID(order_id),
            data=ServiceDeliveredData(main_ip=ip, contract="PKG-VPS-S", starts_on=date.today()),
        )
    )


async def test_order_paid_delivered_journaled_and_private(
    system: System, world: OutsideWorld
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        order = await place(http, system, "vps-s")
        assert order["status"] == "not_processed"
        invoice = await first_invoice(http, system, order["id"])
        assert invoice["total"] == {"amount": "4.00", "currency": "EUR"}
        assert invoice["status"] == "open"

        await pay(world, invoice)
        accepted = await order_in(http, system, order["id"], "in_progress")
        assert accepted["invoice_count"] == 1

        async def acceptance_ticket() -> Any:
            page = await get_json(http, f"{system.url('notifier')}/tickets", ADA)
            return [t for t in page["items"] if t["order_id"] == order["id"]]

        [ticket] = await eventually(acceptance_ticket)
        assert ticket["reason"] == "acceptance"

        async def acceptance_mail() -> Any:
            return [m for m in system.mails() if accepted["service_name"] in m["Subject"]]

        [mail] = await eventually(acceptance_mail)
        assert mail["To"] == "ada@example.com"
        assert mail.get_body(preferencelist=("plain",)) is not None
        assert mail.get_body(preferencelist=("html",)) is not None

        await deliver(world, order["id"], "203.0.113.7")
        done = await order_in(http, system, order["id"], "processed")
        assert done["main_ip"] == "203.0.113.7"
        assert done["paid_until"] is not None
        assert done["days_left"] > 0

        journal_url = f"{system.url('audit')}/orders/{order['id']}/journal"
        wanted = {
            "order.placed",
            "invoice.issued",
            "invoice.paid",
            "order.accepted",
            "service.delivered",
            "order.completed",
        }

        async def journaled() -> Any:
            page = await get_json(http, f"{journal_url}?order=oldest", ADA)
            return page if wanted <= {entry["type"] for entry in page["entries"]} else None

        page = await eventually(journaled)
        assert page["header"]["status"] == "processed"
        verified = await get_json(http, f"{journal_url}/verify", ADA)
        assert verified["status"] == "whole"

        for url in (
            f"{system.url('orders')}/orders/{order['id']}",
            f"{system.url('billing')}/invoices/{invoice['id']}",
            journal_url,
            f"{journal_url}/verify",
            f"{system.url('notifier')}/tickets/{ticket['id']}",
        ):
            assert (await http.get(url, headers=BOB)).status_code == 404, url
        for url in (
            f"{system.url('orders')}/orders",
            f"{system.url('billing')}/invoices",
            f"{system.url('notifier')}/tickets",
        ):
            assert (await get_json(http, url, BOB))["items"] == [], url
