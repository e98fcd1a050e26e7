"""The audit journal's reaction fed events in the order the topics really deliver them: a
payment before the invoice that ties it to an order, and an order's lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from functools import partial
from uuid import UUID

import pytest

from services.audit import reactions
from services.audit.journal import Heads
from services.audit.repository import EntryFilter, JournalRepository
from services.kit.db import Database
from tests.audit import events as ev
from tests.audit.events import T0
from tests.handlers.conftest import Feed, feeding, service_database
from tests.stack import Servers


@pytest.fixture(scope="module")
async def database(stack: Servers) -> AsyncIterator[Database]:
    async with service_database(stack, "audit", as_deployed=True) as found:
        yield found


@pytest.fixture
async def feed(database: Database) -> AsyncIterator[Feed]:
    async with feeding(database, T0) as found:
        yield found


class Unattributed(list[str]):
    def __call__(self, type_: str) -> None:
        self.append(type_)


async def journaled(feed: Feed, order_id: UUID) -> list[str]:
    """The event types of the order's journal, oldest first."""
    found = await JournalRepository(feed.work.session).entries(
        order_id, EntryFilter(newest_first=False), limit=None
    )
    return [stored.entry.content.event_type for stored in found]


async def test_an_order_is_journaled_in_the_order_its_events_came(feed: Feed) -> None:
    order_id = uuid.uuid4()
    journal = partial(reactions.journal_event, heads=Heads(), unattributed=Unattributed())

    await feed(journal, *ev.lifecycle(order_id))

    assert await journaled(feed, order_id) == [event.type for event in ev.lifecycle(order_id)]


async def test_a_payment_before_its_invoice_waits_for_it(feed: Feed) -> None:
    order_id, invoice_id = uuid.uuid4(), uuid.uuid4()
    unattributed = Unattributed()
    journal = partial(reactions.journal_event, heads=Heads(), unattributed=unattributed)

    await feed(journal, ev.placed(order_id))
    await feed(journal, ev.payment_received(invoice_id, T0))
    assert unattributed == ["payment.received"]
    assert await journaled(feed, order_id) == ["order.placed"]

    await feed(journal, ev.invoice_issued([order_id], T0, invoice_id))
    assert await journaled(feed, order_id) == [
        "order.placed",
        "invoice.issued",
        "payment.received",
    ]
