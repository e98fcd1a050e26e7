"""The orders service's reactions fed the sequences other services really send: in order, out
of order, told twice, and two causes of suspension at once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from contracts import Actor, ActorKind, OrderStatus
from services.kit.context import Context
from services.kit.db import Database
from services.orders import commands, reactions, repository
from services.orders.domain import CustomerRef, Order
from tests.handlers.conftest import Feed, feeding, service_database
from tests.orders import support
from tests.orders.support import START
from tests.stack import Servers

CARLA = Actor(kind=ActorKind.CUSTOMER, id="cust-carla", name="Carla")


@pytest.fixture(scope="module")
async def database(stack: Servers) -> AsyncIterator[Database]:
    async with service_database(stack, "orders") as found:
        yield found


@pytest.fixture
async def feed(database: Database) -> AsyncIterator[Feed]:
    async with feeding(database, START) as found:
        yield found


async def placed(feed: Feed) -> str:
    """A new order of Carla's, as the customer's request makes it."""
    customer = CustomerRef(CARLA.id, CARLA.name, "carla@example.com", "en")
    command = commands.PlaceOrder(customer, "vps-s", 1, None, None)
    ctx = Context(CARLA, START, uuid.uuid4())
    order = await commands.place_order(feed.work, command, ctx)
    feed.published.extend(feed.work.events)
    feed.work.events.clear()
    return str(order.id)


async def order(feed: Feed, order_id: str) -> Order:
    found = await repository.get_order(feed.work.session, UUID(order_id))
    assert found is not None
    return found


async def processed(feed: Feed) -> str:
    order_id = await placed(feed)
    await feed(reactions.invoice_paid, support.paid([order_id]))
    await feed(reactions.service_delivered, support.delivered(order_id))
    return order_id


async def test_paid_then_delivered_is_processed(feed: Feed) -> None:
    order_id = await processed(feed)

    assert (await order(feed, order_id)).status is OrderStatus.PROCESSED
    assert feed.types() == ["order.placed", "order.accepted", "order.completed"]


async def test_a_delivery_before_the_payment_waits_for_it(feed: Feed) -> None:
    order_id = await placed(feed)

    await feed(reactions.service_delivered, support.delivered(order_id))
    assert (await order(feed, order_id)).status is OrderStatus.NOT_PROCESSED

    await feed(reactions.invoice_paid, support.paid([order_id]))
    assert (await order(feed, order_id)).status is OrderStatus.PROCESSED
    assert feed.types()[-2:] == ["order.accepted", "order.completed"]


async def test_a_payment_told_twice_accepts_once(feed: Feed) -> None:
    order_id = await placed(feed)
    invoice_id = uuid.uuid4()

    await feed(reactions.invoice_paid, support.paid([order_id], invoice_id=invoice_id))
    await feed(reactions.invoice_paid, support.paid([order_id], invoice_id=invoice_id))

    assert (await order(feed, order_id)).status is OrderStatus.IN_PROGRESS
    assert feed.types().count("order.accepted") == 1


async def test_two_causes_suspend_until_both_have_ended(feed: Feed) -> None:
    order_id = await processed(feed)
    unpaid = uuid.uuid4()

    await feed(reactions.invoice_overdue, support.overdue([order_id], "suspend", unpaid))
    assert (await order(feed, order_id)).status is OrderStatus.SUSPENDED_NON_PAYMENT
    await feed(reactions.violation_confirmed, support.violation(order_id))
    assert (await order(feed, order_id)).status is OrderStatus.SUSPENDED_VIOLATION

    renewal = support.paid([order_id], kind="renewal", invoice_id=unpaid, was_overdue=True)
    await feed(reactions.invoice_paid, renewal)
    assert (await order(feed, order_id)).status is OrderStatus.SUSPENDED_VIOLATION, (
        "paying ends one cause; the violation still suspends"
    )

    await feed(reactions.violation_lifted, support.lifted(order_id))
    assert (await order(feed, order_id)).status is OrderStatus.PROCESSED
    reactivated = [e for e in feed.published if e.type == "order.reactivated"]
    assert [e.data.status for e in reactivated] == [
        OrderStatus.SUSPENDED_VIOLATION,
        OrderStatus.PROCESSED,
    ]


async def test_dunning_of_a_paid_invoice_changes_nothing(feed: Feed) -> None:
    order_id = await processed(feed)
    invoice_id = uuid.uuid4()
    renewal = support.paid([order_id], kind="renewal", invoice_id=invoice_id)

    await feed(reactions.invoice_paid, renewal)
    await feed(reactions.invoice_overdue, support.overdue([order_id], "suspend", invoice_id))

    assert (await order(feed, order_id)).status is OrderStatus.PROCESSED
    assert "order.suspended" not in feed.types()


async def test_billing_events_about_unknown_orders_are_skipped(feed: Feed) -> None:
    unknown = str(uuid.uuid4())

    await feed(reactions.invoice_issued, support.issued([unknown]))
    await feed(reactions.invoice_paid, support.paid([unknown]))

    assert feed.published == []
