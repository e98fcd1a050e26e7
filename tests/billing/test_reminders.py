"""Payment reminders with a moved clock: each offset around the due date once and on its day,
none for a paid or void invoice, and a second pass changes nothing."""

from __future__ import annotations

from datetime import timedelta

from services.billing.jobs import REMINDERS
from tests.billing.conftest import START, Billing, cancelled, payment, placed
from tests.billing.test_dunning import on

BILLING_SETTINGS = {"payment_terms_days": 10, "reminder_offsets_days": (-3, 3)}
DUE = START.date() + timedelta(days=10)


async def test_each_reminder_once_on_its_day_and_none_for_paid_or_void_invoices(
    billing: Billing,
) -> None:
    unpaid, paid, void = placed("frank", "12.00"), placed("frank", "4.00"), placed("frank")
    for order in (unpaid, paid, void):
        await billing.send(order)
    invoices = {
        order.order_id: (await billing.one("invoice.issued", order.order_id)).data.invoice_id
        for order in (unpaid, paid, void)
    }
    await billing.send(payment(invoices[paid.order_id], "4.00"))
    await billing.one("invoice.paid", invoice_id=invoices[paid.order_id])
    await billing.send(cancelled(void.order_id))
    await billing.one("invoice.voided", invoice_id=invoices[void.order_id])

    passes = {}
    for days_from_due in (-4, -3, -3, -1, 0, 2, 3, 3, 4, 30):
        billing.clock.set(on(DUE + timedelta(days=days_from_due)))
        passes.setdefault(days_from_due, []).append(await billing.run_job(REMINDERS))
    assert passes == {-4: [0], -3: [1, 0], -1: [0], 0: [0], 2: [0], 3: [1, 0], 4: [0], 30: [0]}

    reminders = await billing.published("invoice.reminder_due")
    assert [(e.order_id, e.data.offset_days, e.data.due_on) for e in reminders] == [
        (unpaid.order_id, -3, DUE),
        (unpaid.order_id, 3, DUE),
    ]
    first = reminders[0].data
    assert first.invoice_id == invoices[unpaid.order_id]
    assert (str(first.total.amount), first.total.currency) == ("12.00", "EUR")
    assert (first.customer_id, first.order_ids) == ("frank", [unpaid.order_id])


async def test_a_stopped_service_sends_the_reminder_that_fits_now(billing: Billing) -> None:
    order = placed("gina", "7.00")
    await billing.send(order)
    issued = await billing.one("invoice.issued", order.order_id)

    billing.clock.set(on(DUE + timedelta(days=8)))
    assert await billing.run_job(REMINDERS) == 1, "the after-due one, not the one it missed"
    assert await billing.run_job(REMINDERS) == 0
    reminders = await billing.published("invoice.reminder_due", invoice_id=issued.data.invoice_id)
    assert [e.data.offset_days for e in reminders] == [3]
