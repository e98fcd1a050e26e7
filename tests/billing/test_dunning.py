"""Time-driven billing with a moved clock: renewal invoices ahead of paid-until, and the
overdue, suspend and terminate stages, each once and on its configured day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from services.billing.jobs import DUNNING, RENEWALS
from services.billing.tables import orders
from tests.apps import bearer
from tests.billing.conftest import STAFF, START, Billing, completed, payment, placed
from tests.helpers import eventually

BILLING_SETTINGS = {
    "payment_terms_days": 10,
    "overdue_after_days": 1,
    "suspend_after_days": 5,
    "terminate_after_days": 10,
    "renewal_lead_days": 7,
}
DUE = START.date() + timedelta(days=10)


def on(day: date) -> Any:
    return START.replace(year=day.year, month=day.month, day=day.day)


async def _projected_paid_until(billing: Billing, order_id: UUID, paid_until: date) -> None:
    """Wait until billing consumed the order's completion (nothing to see over HTTP)."""

    async def caught_up() -> bool:
        async with billing.service.runtime.database.sessions() as session:
            found = await session.scalar(
                select(orders.c.paid_until).where(orders.c.order_id == order_id)
            )
        return found == paid_until

    await eventually(caught_up)


async def test_renewal_invoices_are_issued_ahead_of_paid_until_once(billing: Billing) -> None:
    order = placed("carol", "8.00")
    paid_until = START.date() + timedelta(days=30)
    await billing.send(order)
    await billing.send(completed(order.order_id, paid_until))
    await _projected_paid_until(billing, order.order_id, paid_until)

    billing.clock.set(on(paid_until - timedelta(days=8)))
    assert await billing.run_job(RENEWALS) == 0
    billing.clock.set(on(paid_until - timedelta(days=7)))
    assert await billing.run_job(RENEWALS) == 1
    assert await billing.run_job(RENEWALS) == 0
    billing.clock.advance(timedelta(days=3))
    assert await billing.run_job(RENEWALS) == 0, "one is open already"

    renewals = await eventually(lambda: billing.published("invoice.issued", kind="renewal"))
    assert len(renewals) == 1
    data = renewals[0].data
    assert data.due_on == paid_until
    assert data.renewal_id is None
    assert [(line.order_id, str(line.amount.amount)) for line in data.lines] == [
        (order.order_id, "8.00")
    ]
    await billing.send(payment(data.invoice_id, "8.00"))
    await billing.one("invoice.paid", invoice_id=data.invoice_id)
    assert await billing.run_job(RENEWALS) == 0, "paid, but paid-until has not moved yet"


async def test_overdue_suspend_and_terminate_each_once_on_their_day(billing: Billing) -> None:
    unpaid, late_payer = placed("dave", "12.00"), placed("dave", "4.00")
    for order in (unpaid, late_payer):
        await billing.send(order)
    first = await billing.one("invoice.issued", unpaid.order_id)
    second = await billing.one("invoice.issued", late_payer.order_id)
    assert first.data.due_on == DUE

    passes = {}
    for days_after_due in (0, 1, 1, 4, 5, 5, 6, 14, 15, 15, 40):
        billing.clock.set(on(DUE + timedelta(days=days_after_due)))
        passes.setdefault(days_after_due, []).append(await billing.run_job(DUNNING))
        if days_after_due == 6:
            await billing.send(payment(second.data.invoice_id, "4.00"))
            await billing.one("invoice.paid", invoice_id=second.data.invoice_id)
    assert passes == {0: [0], 1: [2, 0], 4: [0], 5: [2, 0], 6: [0], 14: [0], 15: [1, 0], 40: [0]}

    stages = await billing.published("invoice.overdue", invoice_id=first.data.invoice_id)
    assert [(e.data.stage, e.data.days_overdue) for e in stages] == [
        ("overdue", 1),
        ("suspend", 5),
        ("terminate", 15),
    ]
    assert stages[0].order_id == unpaid.order_id
    paid = await billing.one("invoice.paid", invoice_id=second.data.invoice_id)
    assert paid.data.was_overdue is True
    listed = await billing.invoices(bearer("customer", "dave"), status="overdue")
    assert [item["id"] for item in listed["items"]] == [str(first.data.invoice_id)]


async def test_an_exempt_customer_is_marked_overdue_but_never_suspended(billing: Billing) -> None:
    exempt = {"reason": "key account"}
    refused = await billing.http.put(
        "/dunning-exemptions/erin", json=exempt, headers=bearer("customer", "erin")
    )
    assert refused.status_code == 403
    granted = await billing.http.put("/dunning-exemptions/erin", json=exempt, headers=STAFF)
    assert granted.status_code == 200, granted.text
    order = placed("erin")
    await billing.send(order)
    issued = await billing.one("invoice.issued", order.order_id)

    billing.clock.set(on(DUE + timedelta(days=30)))
    assert await billing.run_job(DUNNING) == 1
    assert await billing.run_job(DUNNING) == 0
    stages = await billing.published("invoice.overdue", invoice_id=issued.data.invoice_id)
    assert [e.data.stage for e in stages] == ["overdue"]

    ended = await billing.http.delete("/dunning-exemptions/erin", headers=STAFF)
    assert ended.status_code == 204
    assert await billing.run_job(DUNNING) == 2, "suspend and terminate, both long due"
