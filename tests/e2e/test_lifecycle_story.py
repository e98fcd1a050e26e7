"""The rest of the story, through HTTP and inbound events only, with the four services running
as processes: violations and incidents, cancellations, a staff hold, renewals, and an unpaid
renewal invoice that suspends one order (paid late: reactivated) and terminates another.

Time moves the way the local stack moves it: every service restarts with a larger clock offset.
Each test stands on its own, in any order: the first ones create their own orders and work at
whatever time the services live in. ``test_one_cast_through_a_month_and_a_half`` follows one
cast of orders, all delivered when it starts and so paid until the same day P, through the
clock moved to P-14, P+7 and P+21 days, step by step: a later step relies on what an earlier
one did to the cast, so the steps are one test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.story import (
    ADA,
    BOB,
    STAFF,
    Json,
    banner_gone,
    banner_shown,
    banners,
    confirm_violation,
    first_invoice,
    get_json,
    invoice_where,
    invoices_of,
    journal_has,
    lift_violation,
    mail_with,
    month_after,
    open_incident,
    order_in,
    order_of,
    paid_order,
    pay,
    place,
    post_json,
    processed_order,
    resolve_incident,
)
from tests.e2e.system import OutsideWorld, System
from tests.helpers import eventually

BOTH = ("dashboard", "orders_tab")


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


async def move_clock_to(system: System, day: date) -> None:
    await system.move_clock(timedelta(days=(day - system.now().date()).days))


async def dismiss(http: httpx.AsyncClient, system: System, banner: Json, who: Any = ADA) -> int:
    url = f"{system.url('notifier')}/banners/{banner['id']}/dismiss"
    return (await http.post(url, headers=who)).status_code


# --- no moved clock ---------------------------------------------------------------------------


async def test_violation_suspends_and_lifts(
    system: System, world: OutsideWorld, http: httpx.AsyncClient
) -> None:
    order = await processed_order(http, system, world, "198.51.100.10")
    case = f"abuse-{uuid4().hex[:6]}"

    await confirm_violation(world, system, order["id"], case)
    suspended = await order_in(http, system, order["id"], "suspended_violation")
    assert suspended["suspension"] == {"violation_cases": [case], "unpaid_invoices": []}
    for placement in BOTH:
        banner = await banner_shown(http, system, order["id"], placement, "suspension_violation")
        assert banner["severity"] == "critical"
        assert banner["dismissible"] is False
    assert await dismiss(http, system, banner) == 409
    mail = await mail_with(system, f"{order['service_name']} ist gesperrt: Verstoß gegen die AGB")
    assert mail["To"] == "ada@example.com"

    await lift_violation(world, system, order["id"], case)
    lifted = await order_in(http, system, order["id"], "processed")
    assert lifted["suspension"] is None
    for placement in BOTH:
        await banner_gone(http, system, order["id"], placement, "suspension_violation")
    wanted = {"violation.confirmed", "order.suspended", "violation.lifted", "order.reactivated"}
    await journal_has(http, system, order["id"], wanted)


async def test_incident_raises_and_clears_its_banner(
    system: System, world: OutsideWorld, http: httpx.AsyncClient
) -> None:
    order = await processed_order(http, system, world, "198.51.100.20")
    incident = f"inc-{uuid4().hex[:6]}"

    await open_incident(world, system, incident, "198.51.100.20")
    for placement in BOTH:
        banner = await banner_shown(http, system, order["id"], placement, "incident")
        assert banner["severity"] == "critical"
    await mail_with(system, f"{order['service_name']}: Störung am Server")

    await resolve_incident(world, system, incident)
    for placement in BOTH:
        await banner_gone(http, system, order["id"], placement, "incident")
    assert (await order_of(http, system, order["id"]))["status"] == "processed"


async def test_cancel_now_voids_the_open_invoice(
    system: System, world: OutsideWorld, http: httpx.AsyncClient
) -> None:
    order = await place(http, system)
    invoice = await first_invoice(http, system, order["id"])
    url = f"{system.url('orders')}/orders/{order['id']}/cancel"

    cancelled = await post_json(http, url, {"reason": "changed my mind"}, ADA)
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"]["mode"] == "immediate"
    await invoice_where(http, system, order["id"], id=invoice["id"], status="void")
    await mail_with(system, f"{order['service_name']} ist gekündigt")
    banner = await banner_shown(http, system, order["id"], "orders_tab", "cancellation")
    assert banner["dismissible"] is True
    assert await dismiss(http, system, banner) == 204
    await banner_gone(http, system, order["id"], "orders_tab", "cancellation")
    await journal_has(http, system, order["id"], {"order.cancelled", "invoice.voided"})


# --- one cast of orders, through a month and a half ------------------------------------------


@dataclass
class Cast:
    """Orders delivered today, paid until P: each has its part in the story."""

    renewed: Json  # renewed on its own, before the reminders
    batch: list[Json]  # renewed together through one invoice
    paid_late: Json  # its renewal invoice is paid after the suspension
    unpaid: Json  # its renewal invoice is never paid
    ending: Json  # cancelled at the end of its period
    held: Json  # paid, then held by staff until its reminder

    @property
    def paid_until(self) -> date:
        return date.fromisoformat(self.unpaid["paid_until"])


@pytest.fixture(scope="module")
async def cast(system: System, world: OutsideWorld, http: httpx.AsyncClient) -> Cast:
    delivered = await asyncio.gather(
        *(processed_order(http, system, world, f"198.51.100.{30 + n}") for n in range(7)),
        paid_order(http, system, world),
    )
    renewed, *batch, paid_late, unpaid, ending = delivered[:7]
    found = Cast(renewed, batch[:3], paid_late, unpaid, ending, delivered[7])
    assert {order["paid_until"] for order in delivered[:7]} == {found.paid_until.isoformat()}
    return found


async def test_one_cast_through_a_month_and_a_half(
    system: System, world: OutsideWorld, http: httpx.AsyncClient, cast: Cast
) -> None:
    await _renewals_before_the_reminders(system, world, http, cast)
    await _cancellation_at_period_end_and_hold_are_set(system, http, cast)
    await _two_weeks_before_paid_until(system, http, cast)
    await _a_week_past_due(system, world, http, cast)
    await _terminated_after_grace(system, http, cast)


async def _renewals_before_the_reminders(
    system: System, world: OutsideWorld, http: httpx.AsyncClient, cast: Cast
) -> None:
    orders = system.url("orders")
    one = cast.renewed["id"]
    renewal = await post_json(http, f"{orders}/orders/{one}/renew", {"period_months": 1}, ADA)
    assert renewal["total"] == {"amount": "4.00", "currency": "EUR"}
    await pay(world, system, await invoice_where(http, system, one, kind="renewal"))
    renewed = await _paid_until(http, system, one, month_after(cast.paid_until))
    assert renewed["status"] == "processed"

    items = [{"order_id": order["id"], "period_months": 1} for order in cast.batch]
    batch = await post_json(http, f"{orders}/orders/renewals", {"items": items}, ADA)
    assert batch["total"] == {"amount": "12.00", "currency": "EUR"}
    listed = await invoice_where(http, system, cast.batch[0]["id"], kind="renewal")
    invoice = await get_json(http, f"{system.url('billing')}/invoices/{listed['id']}", ADA)
    assert sorted(line["order_id"] for line in invoice["lines"]) == sorted(
        order["id"] for order in cast.batch
    )
    assert {line["amount"]["amount"] for line in invoice["lines"]} == {"4.00"}
    assert invoice["total"] == {"amount": "12.00", "currency": "EUR"}
    await pay(world, system, invoice)
    for order in cast.batch:
        await _paid_until(http, system, order["id"], month_after(cast.paid_until))
        assert len(await invoices_of(http, system, order["id"])) == 2
    await journal_has(
        http, system, cast.batch[1]["id"], {"order.renewal_requested", "order.renewed"}
    )


async def _cancellation_at_period_end_and_hold_are_set(
    system: System, http: httpx.AsyncClient, cast: Cast
) -> None:
    orders = system.url("orders")
    url = f"{orders}/orders/{cast.ending['id']}/cancel"
    scheduled = await post_json(http, url, {"at_period_end": True}, ADA)
    assert scheduled["status"] == "processed"
    effective = scheduled["scheduled_cancellation"]["effective_at"]
    assert effective.startswith((cast.paid_until + timedelta(days=1)).isoformat())

    hold_url = f"{orders}/orders/{cast.held['id']}/hold"
    body = {"reason": "waiting for the customer's ID", "remind_at": _in_a_day(system)}
    assert (await http.post(hold_url, json=body, headers=ADA)).status_code == 403
    held = await post_json(http, hold_url, body, STAFF)
    assert held["status"] == "on_hold"
    assert held["hold"]["held_from"] == "in_progress"


async def _two_weeks_before_paid_until(system: System, http: httpx.AsyncClient, cast: Cast) -> None:
    """Reminders and renewal invoices come; the hold's reminder comes and staff release it."""
    await move_clock_to(system, cast.paid_until - timedelta(days=14))

    for order in (cast.paid_late, cast.unpaid):
        invoice = await invoice_where(http, system, order["id"], kind="renewal")
        assert invoice["due_on"] == cast.paid_until.isoformat()
        assert invoice["status"] == "open"
        await mail_with(system, f"{order['service_name']}: Verlängerung in 14 Tagen fällig")
        for placement in BOTH:  # every notice reaches both pages
            banner = await banner_shown(http, system, order["id"], placement, "renewal_reminder")
            assert banner["link"].endswith("/renew")
    # Renewed ahead: no automatic renewal invoice (the same job pass would have issued it).
    assert len(await invoices_of(http, system, cast.renewed["id"])) == 2
    assert len(await invoices_of(http, system, cast.batch[0]["id"])) == 2

    held = cast.held["id"]
    await journal_has(http, system, held, {"order.held", "order.hold_reminder_due"}, STAFF)
    url = f"{system.url('orders')}/orders/{held}/release"
    released = await post_json(http, url, {}, STAFF)
    assert released["status"] == "in_progress"
    await journal_has(http, system, held, {"order.released"})


async def _a_week_past_due(
    system: System, world: OutsideWorld, http: httpx.AsyncClient, cast: Cast
) -> None:
    """Unpaid: suspended for non-payment with a critical banner and mail; paid late,
    reactivated and the banner goes. The period of the order cancelled at its end is over."""
    await move_clock_to(system, cast.paid_until + timedelta(days=7))

    late = cast.paid_late["id"]
    invoice = await invoice_where(http, system, late, kind="renewal", status="overdue")
    for order in (cast.paid_late, cast.unpaid):
        suspended = await order_in(http, system, order["id"], "suspended_non_payment")
        assert len(suspended["suspension"]["unpaid_invoices"]) == 1
        for placement in BOTH:
            kind = "suspension_non_payment"
            banner = await banner_shown(http, system, order["id"], placement, kind)
            assert banner["severity"] == "critical"
        assert await dismiss(http, system, banner) == 409
        await mail_with(system, f"{order['service_name']} ist gesperrt: Rechnung offen")
    assert (await order_of(http, system, late))["suspension"]["unpaid_invoices"] == [invoice["id"]]
    about = f"{cast.paid_late['service_name']}: Rechnung {invoice['number']}"
    await mail_with(system, f"{about} ist überfällig")
    await mail_with(system, f"{about} war am {invoice['due_on']} fällig")
    still = {"invoice_overdue": BOTH, "invoice_reminder": BOTH}
    for kind, placements in still.items():
        for placement in placements:
            await banner_shown(http, system, late, placement, kind)
    for placement in BOTH:  # the renewal invoice's reminder took the renewal reminder's place
        await banner_gone(http, system, late, placement, "renewal_reminder")

    ended = await order_in(http, system, cast.ending["id"], "cancelled")
    assert ended["cancellation"]["mode"] == "end_of_period"
    await mail_with(system, f"{cast.ending['service_name']} ist gekündigt")

    await pay(world, system, invoice)
    back = await order_in(http, system, late, "processed")
    assert back["suspension"] is None
    assert back["paid_until"] == month_after(cast.paid_until).isoformat()
    for placement in BOTH:
        await banner_gone(http, system, late, placement, "suspension_non_payment")
    for kind, placements in still.items():  # the invoice is paid, the order renewed
        for placement in placements:
            await banner_gone(http, system, late, placement, kind)
    wanted = {"invoice.overdue", "order.suspended", "invoice.paid", "order.reactivated"}
    await journal_has(http, system, late, wanted | {"order.renewed"})


async def _terminated_after_grace(system: System, http: httpx.AsyncClient, cast: Cast) -> None:
    await move_clock_to(system, cast.paid_until + timedelta(days=21))

    unpaid = cast.unpaid["id"]
    ended = await order_in(http, system, unpaid, "cancelled")
    assert ended["cancellation"]["mode"] == "non_payment_termination"
    await invoice_where(http, system, unpaid, kind="renewal", status="void")
    await mail_with(system, f"{cast.unpaid['service_name']} ist gekündigt")
    for placement in BOTH:
        await banner_gone(http, system, unpaid, placement, "suspension_non_payment")
    await banner_shown(http, system, unpaid, "orders_tab", "cancellation")
    await journal_has(http, system, unpaid, {"order.suspended", "order.cancelled"})


# --- another customer -------------------------------------------------------------------------


async def test_second_customer_sees_none_of_it(
    system: System, world: OutsideWorld, http: httpx.AsyncClient
) -> None:
    await _ada_has_an_order_an_invoice_a_ticket_and_a_banner(http, system, world)
    own = await place(http, system, who=BOB)
    orders, billing, notifier = (system.url(name) for name in ("orders", "billing", "notifier"))
    ada_orders = (await get_json(http, f"{orders}/orders?limit=200", ADA))["items"]
    ada_invoices = (await get_json(http, f"{billing}/invoices?limit=200", ADA))["items"]
    ada_tickets = (await get_json(http, f"{notifier}/tickets?limit=200", ADA))["items"]
    ada_banners = [
        *await banners(http, system, "dashboard"),
        *await banners(http, system, "orders_tab"),
    ]
    assert ada_orders
    assert ada_invoices
    assert ada_tickets
    assert ada_banners

    async def bobs_invoice() -> Any:
        return (await get_json(http, f"{billing}/invoices", BOB))["items"]

    [invoice] = await eventually(bobs_invoice, timeout=90, interval=0.5)
    assert invoice["order_ids"] == [own["id"]]
    assert [o["id"] for o in (await get_json(http, f"{orders}/orders", BOB))["items"]] == [
        own["id"]
    ]
    assert (await get_json(http, f"{notifier}/tickets", BOB))["items"] == []
    for placement in BOTH:
        assert await banners(http, system, placement, BOB) == []

    hidden = [
        *(f"{orders}/orders/{o['id']}" for o in ada_orders),
        *(f"{system.url('audit')}/orders/{o['id']}/journal" for o in ada_orders),
        *(f"{system.url('audit')}/orders/{o['id']}/journal/verify" for o in ada_orders),
        *(f"{billing}/invoices/{i['id']}" for i in ada_invoices),
        *(f"{notifier}/tickets/{t['id']}" for t in ada_tickets),
    ]
    for url in hidden:
        assert (await http.get(url, headers=BOB)).status_code == 404, url
    for banner in ada_banners:
        assert await dismiss(http, system, banner, BOB) == 404


# --- helpers ----------------------------------------------------------------------------------


async def _ada_has_an_order_an_invoice_a_ticket_and_a_banner(
    http: httpx.AsyncClient, system: System, world: OutsideWorld
) -> None:
    """What another customer must not see, whichever tests ran before: a paid order has its
    invoice, its acceptance ticket and its acceptance banner (until delivery)."""
    order = await paid_order(http, system, world)
    await banner_shown(http, system, order["id"], "orders_tab", "acceptance")

    async def ticketed() -> bool:
        tickets = await get_json(http, f"{system.url('notifier')}/tickets?limit=200", ADA)
        return any(ticket["order_id"] == order["id"] for ticket in tickets["items"])

    await eventually(ticketed, timeout=90, interval=0.5)


async def _paid_until(
    http: httpx.AsyncClient, system: System, order_id: str, expected: date
) -> Json:
    async def moved() -> Any:
        order = await order_of(http, system, order_id)
        return order if order["paid_until"] == expected.isoformat() else None

    return dict(await eventually(moved, timeout=90, interval=0.5))


def _in_a_day(system: System) -> str:
    return (system.now() + timedelta(days=1)).isoformat()
