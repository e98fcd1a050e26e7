"""A renewal invoice's reminder and the order's renewal reminder for the same due date are one
thing for the customer to do: one banner at a time and no second mail the same day, whichever
comes first. The invoice's reminder wins (it names the invoice, its amount and where to pay);
a renewal reminder that a reminder of its invoice told already is not sent."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.envelope import Envelope
from services.kit.clock import FrozenClock
from services.notifier.jobs import REMINDERS
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import WAIT, Notifier
from tests.notifier.events import AT
from tests.notifier.test_notices import banners

DUE = date(2025, 3, 4)  # the paid period's last day, and the renewal invoice's due date
JOB, INVOICE = "renewal reminders pass", "invoice reminder"

STORIES = {
    "renewal reminder, then the invoice's the same day": (
        [(JOB, -3), (INVOICE, -3)],
        {"renewal_reminder": 1},
    ),
    "invoice reminder, then the renewal pass the same day": (
        [(INVOICE, -3), (JOB, -3)],
        {"invoice_reminder": 1},
    ),
    "a renewal reminder a week ahead, the invoice's, then the last-day pass": (
        [(JOB, -7), (INVOICE, -3), (JOB, -1)],
        {"renewal_reminder": 1, "invoice_reminder": 1},
    ),
}


@pytest.mark.parametrize("story", STORIES.values(), ids=STORIES)
async def test_one_banner_and_one_mail_a_day_for_one_thing_to_do(
    notifier: Notifier, clock: FrozenClock, story: tuple[list[tuple[str, int]], dict[str, int]]
) -> None:
    steps, mailed = story
    customer, order, invoice = f"c-{uuid4().hex[:8]}", uuid4(), uuid4()
    clock.set(AT)
    await notifier.publish(events.placed(order, customer), events.completed(order, paid_until=DUE))
    await _known(notifier, order)
    for step, days in steps:
        clock.set(datetime.combine(DUE + timedelta(days=days), time(9), AT.tzinfo))
        if step == JOB:
            await notifier.service.runtime.jobs.run_once(REMINDERS)
        else:
            await _applied(notifier, events.reminder_due(order, invoice, customer, days))

    shown = [b["kind"] for b in await banners(notifier, customer, "dashboard")]
    assert shown == ["invoice_reminder"], "the invoice's reminder is the one banner"
    while await notifier.send_mail():
        pass
    kinds = Counter(
        m["X-Notification-Kind"] for m in notifier.mailbox.messages(f"{customer}@example.com")
    )
    assert kinds == Counter(mailed)


async def _known(notifier: Notifier, order: UUID) -> None:
    sql = f"SELECT paid_until FROM orders WHERE order_id = '{order}'"
    await eventually(lambda: notifier.scalar(sql), timeout=WAIT)


async def _applied(notifier: Notifier, event: Envelope[object]) -> None:
    await notifier.publish(event)
    sql = f"SELECT count(*) FROM inbox WHERE event_id = '{event.event_id}'"
    await eventually(lambda: notifier.scalar(sql), timeout=WAIT)
