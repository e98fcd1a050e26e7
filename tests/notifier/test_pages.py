"""Every kind of notice reaches both pages of the panel (the orders tab and the dashboard)
unless the service is configured to keep a kind to one; one request per page returns every
banner that page shows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from services.kit.clock import FrozenClock
from services.notifier.domain import NoticeKind
from services.notifier.jobs import REMINDERS
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import WAIT, Mailbox, Notifier, notifier_running
from tests.notifier.events import AT
from tests.notifier.test_notices import active_order, banners
from tests.stack import Servers

EVERY_KIND = {kind.value for kind in NoticeKind}


async def one_of_each(notifier: Notifier, customer: str) -> None:
    """A notice of every kind for the customer, each from the fact that causes it."""
    order = await active_order(notifier, customer)
    soon, pending, ended = uuid4(), uuid4(), uuid4()
    await notifier.publish(
        events.placed(soon, customer),
        events.completed(soon, paid_until=AT.date() + timedelta(days=5)),
        events.placed(pending, customer),
        events.accepted(pending),
        events.placed(ended, customer),
        events.cancelled(ended),
        events.suspended(order, violation=True, case_id="case-1"),
        events.suspended(order, invoice_id=uuid4()),
        events.overdue(order, uuid4(), customer),
        events.reminder_due(order, uuid4(), customer, -3),
        events.incident(f"inc-{uuid4().hex[:6]}", order_id=order),
    )

    async def renewal_reminded() -> bool:
        await notifier.service.runtime.jobs.run_once(REMINDERS)
        shown = await banners(notifier, customer, "orders_tab")
        return {b["kind"] for b in shown} == EVERY_KIND

    await eventually(renewal_reminded, timeout=WAIT)


async def test_one_request_per_page_shows_a_banner_of_every_kind(notifier: Notifier) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    await one_of_each(notifier, customer)
    for page in ("orders_tab", "dashboard"):
        shown = await banners(notifier, customer, page)
        assert {b["kind"] for b in shown} == EVERY_KIND, page
        assert {b["placement"] for b in shown} == {"both"}


@pytest.fixture(scope="module")
async def configured(
    stack: Servers, clock: FrozenClock, mailbox: Mailbox, producer: AIOKafkaProducer
) -> AsyncIterator[Notifier]:
    """A notifier that keeps renewal reminders to the orders tab and incidents to the dashboard."""
    placements = {"renewal_reminder": "orders_tab", "incident": "dashboard"}
    prefix = f"t{uuid.uuid4().hex[:10]}."
    async with notifier_running(
        stack, prefix, clock, mailbox, producer, banner_placements=placements
    ) as running:
        yield running


async def test_a_kind_kept_to_one_page_by_configuration(configured: Notifier) -> None:
    customer = f"c-{uuid4().hex[:8]}"
    order = uuid4()
    await configured.publish(
        events.placed(order, customer),
        # Not the invoice's due date: that would be one thing, told by the invoice alone.
        events.completed(order, paid_until=date(2025, 3, 5)),
        events.incident("inc-cfg", order_id=order),
        events.reminder_due(order, uuid4(), customer, -3),
    )

    async def shown() -> dict[str, set[str]] | None:
        await configured.service.runtime.jobs.run_once(REMINDERS)
        pages = {
            page: {b["kind"] for b in await banners(configured, customer, page)}
            for page in ("orders_tab", "dashboard")
        }
        return pages if len(pages["orders_tab"] | pages["dashboard"]) == 3 else None

    assert await eventually(shown, timeout=WAIT) == {
        "orders_tab": {"renewal_reminder", "invoice_reminder"},
        "dashboard": {"incident", "invoice_reminder"},
    }
