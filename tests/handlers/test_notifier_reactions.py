"""The notifier's reactions fed the sequences the orders service really sends: an order
suspended for two causes at once, an event before the order is known, a notice told twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from contracts import OrderStatus
from services.kit.db import Database
from services.notifier import reactions, repository
from services.notifier.notices import Teller
from services.notifier.render import Renderer
from services.notifier.tables import banners, mails
from tests.handlers.conftest import Feed, feeding, service_database
from tests.notifier import events as ev
from tests.notifier.events import AT
from tests.stack import Servers

TELLER = Teller(renderer=Renderer("https://panel.example"))
placed_ = partial(reactions.order_placed, teller=TELLER)
suspended_ = partial(reactions.order_suspended, teller=TELLER)
PAID_UNTIL = date(2025, 4, 1)


@pytest.fixture(scope="module")
async def database(stack: Servers) -> AsyncIterator[Database]:
    async with service_database(stack, "notifier") as found:
        yield found


@pytest.fixture
async def feed(database: Database) -> AsyncIterator[Feed]:
    async with feeding(database, AT) as found:
        yield found


async def processed(feed: Feed) -> UUID:
    order_id = uuid.uuid4()
    await feed(placed_, ev.placed(order_id, f"cust-{order_id.hex[:6]}"))
    await feed(reactions.order_completed, ev.completed(order_id, paid_until=PAID_UNTIL))
    return order_id


async def shown(feed: Feed, order_id: UUID) -> list[str]:
    """The kinds of the order's banners on screen."""
    query = select(banners.c.kind).where(
        banners.c.order_id == order_id, banners.c.resolved_at.is_(None)
    )
    return sorted((await feed.work.session.scalars(query)).all())


async def status(feed: Feed, order_id: UUID) -> Any:
    found = await repository.get_order(feed.work.session, order_id)
    assert found is not None
    return found.status


async def test_two_causes_each_keep_their_banner_until_they_end(feed: Feed) -> None:
    order_id = await processed(feed)
    invoice_id = uuid.uuid4()

    await feed(suspended_, ev.suspended(order_id, invoice_id=invoice_id))
    await feed(suspended_, ev.suspended(order_id, violation=True, case_id="case-1"))
    assert await shown(feed, order_id) == ["suspension_non_payment", "suspension_violation"]

    late = ev.reactivated(order_id, invoice_id=invoice_id, status=OrderStatus.SUSPENDED_VIOLATION)
    await feed(reactions.order_reactivated, late)
    assert await shown(feed, order_id) == ["suspension_violation"]
    assert await status(feed, order_id) == OrderStatus.SUSPENDED_VIOLATION

    lifted = ev.reactivated(
        order_id, violation=True, case_id="case-1", status=OrderStatus.PROCESSED
    )
    await feed(reactions.order_reactivated, lifted)
    assert await shown(feed, order_id) == []
    assert await status(feed, order_id) == OrderStatus.PROCESSED


async def test_events_before_the_order_is_known_wait_for_it(feed: Feed) -> None:
    order_id = uuid.uuid4()

    await feed(reactions.order_completed, ev.completed(order_id, paid_until=PAID_UNTIL))
    await feed(suspended_, ev.suspended(order_id, violation=True, case_id="case-2"))
    assert await repository.get_order(feed.work.session, order_id) is None

    await feed(placed_, ev.placed(order_id, "cust-late"))
    assert await status(feed, order_id) == OrderStatus.SUSPENDED_VIOLATION
    assert await shown(feed, order_id) == ["suspension_violation"]


async def test_a_suspension_redelivered_tells_once(feed: Feed) -> None:
    order_id = await processed(feed)
    event = ev.suspended(order_id, violation=True, case_id="case-3")

    await feed(suspended_, event, event)

    assert await shown(feed, order_id) == ["suspension_violation"]
    query = select(mails.c.id).where(mails.c.order_id == order_id)
    assert len((await feed.work.session.scalars(query)).all()) == 1
