"""Billing's reactions fed the sequences orders and the payment gateway really send: an
order's later events before its placement (a replayed DLQ), payments told twice, and
cancellations of orders billed alone and together."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from functools import partial
from uuid import UUID

import pytest
from sqlalchemy import select

from services.billing import payment_repository as payments_repo
from services.billing import reactions
from services.billing import repository as repo
from services.billing.domain import DunningPolicy, Invoice, InvoiceStatus
from services.billing.outgoing import BILLING_ACTOR
from services.billing.tables import orders
from services.kit.db import Database
from tests.billing.conftest import START, cancelled, completed, payment, placed, renewal
from tests.handlers.conftest import Feed, feeding, service_database
from tests.stack import Servers

POLICY = DunningPolicy()
order_placed = partial(reactions.order_placed, policy=POLICY)
renewal_requested = partial(reactions.renewal_requested, policy=POLICY)
order_cancelled = partial(reactions.order_cancelled, policy=POLICY)


@pytest.fixture(scope="module")
async def database(stack: Servers) -> AsyncIterator[Database]:
    async with service_database(stack, "billing") as found:
        yield found


@pytest.fixture
async def feed(database: Database) -> AsyncIterator[Feed]:
    async with feeding(database, START, BILLING_ACTOR) as found:
        yield found


async def invoices_of(feed: Feed, order_id: UUID) -> list[Invoice]:
    where = repo.InvoiceFilter(order_id=order_id)
    return await repo.list_invoices(feed.work.session, where, before=None, limit=50)


async def projected(feed: Feed, order_id: UUID) -> tuple[str, date | None]:
    row = (
        await feed.work.session.execute(
            select(orders.c.status, orders.c.paid_until).where(orders.c.order_id == order_id)
        )
    ).one()
    return row.status, row.paid_until


async def test_a_placement_is_billed_once_however_often_it_comes(feed: Feed) -> None:
    event = placed("cust-1")
    assert event.order_id is not None

    await feed(order_placed, event, event.model_copy(update={"event_id": uuid.uuid4()}))

    [invoice] = await invoices_of(feed, event.order_id)
    assert invoice.status is InvoiceStatus.OPEN
    assert feed.types() == ["invoice.issued"]


async def test_later_events_before_the_placement_wait_for_it(feed: Feed) -> None:
    event = placed("cust-2")
    order_id = event.order_id
    assert order_id is not None
    paid_until = date(2026, 4, 2)

    await feed(reactions.order_completed, completed(order_id, paid_until))
    assert await invoices_of(feed, order_id) == []

    await feed(order_placed, event)
    assert await projected(feed, order_id) == ("active", paid_until)
    assert len(await invoices_of(feed, order_id)) == 1


async def test_a_payment_told_twice_is_booked_once(feed: Feed) -> None:
    event = placed("cust-3")
    assert event.order_id is not None
    await feed(order_placed, event)
    [invoice] = await invoices_of(feed, event.order_id)
    money = payment(invoice.id, str(invoice.total))

    await feed(
        reactions.payment_received, money, money.model_copy(update={"event_id": uuid.uuid4()})
    )

    assert len(await payments_repo.payments_of(feed.work.session, invoice.id)) == 1
    assert feed.types().count("invoice.paid") == 1
    assert feed.types().count("payment.recorded") == 1


async def test_cancelling_an_order_billed_alone_voids_its_invoice_once(feed: Feed) -> None:
    event = placed("cust-4")
    assert event.order_id is not None
    await feed(order_placed, event)

    ended = cancelled(event.order_id)
    await feed(order_cancelled, ended, ended.model_copy(update={"event_id": uuid.uuid4()}))

    [invoice] = await invoices_of(feed, event.order_id)
    assert invoice.status is InvoiceStatus.VOID
    assert feed.types().count("invoice.voided") == 1


async def test_cancelling_one_order_of_a_batch_renewal_corrects_the_invoice(feed: Feed) -> None:
    one, other = placed("cust-5"), placed("cust-5")
    assert one.order_id is not None
    assert other.order_id is not None
    await feed(order_placed, one, other)
    await feed(
        renewal_requested, renewal("cust-5", {one.order_id: "10.00", other.order_id: "20.00"})
    )

    await feed(order_cancelled, cancelled(one.order_id))

    renewals = [i for i in await invoices_of(feed, other.order_id) if i.kind == "renewal"]
    assert sorted(i.status for i in renewals) == [InvoiceStatus.OPEN, InvoiceStatus.VOID]
    [corrected] = [i for i in renewals if i.status is InvoiceStatus.OPEN]
    assert [line.order_id for line in corrected.lines] == [other.order_id]
    assert corrected.replaces is not None
