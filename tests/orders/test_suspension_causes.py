"""An order suspended for several causes at once (a violation and an unpaid invoice, or two
violation cases), followed from the abuse desk's and billing's events through the orders
service to the two services that read its events: the notifier (banners, and its copy of the
order) and the audit journal (the header). Lifting one cause must leave the order suspended
everywhere, with the banner of each remaining cause, whatever the order of the facts and
however often they are told.

The three services run in-process on one topic prefix, so the notifier and the audit read what
the orders service really published."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

import contracts as c
from contracts.envelope import Envelope
from services.kit.clock import FrozenClock
from tests.apps import RunningService, bearer, running_service
from tests.audit.conftest import journal, writer_role  # noqa: F401 - the audit's login role
from tests.helpers import eventually
from tests.orders.support import START, Orders, customer, customer_id, lifted, overdue, paid
from tests.orders.support import violation as confirmed
from tests.stack import Servers

WAIT = 60.0


@dataclass
class Three:
    orders: Orders
    notifier: RunningService
    audit: RunningService


@pytest.fixture(scope="module")
async def three(stack: Servers, writer_role: str) -> AsyncIterator[Three]:  # noqa: F811
    prefix = f"t{uuid.uuid4().hex[:10]}."
    clock = FrozenClock(START)
    async with (
        running_service("orders", stack, prefix=prefix, clock=clock) as orders,
        running_service("notifier", stack, prefix=prefix, clock=clock) as notifier,
        running_service("audit", stack, prefix=prefix, clock=clock) as audit,
    ):
        yield Three(Orders(orders, clock, prefix, stack.kafka_bootstrap), notifier, audit)


@dataclass(frozen=True)
class Story:
    """Facts told about an active order, and what everyone must show after them."""

    facts: Callable[[str, uuid.UUID, uuid.UUID], list[Envelope[Any]]]
    """The inbound events, given the order id and two invoice ids."""
    status: str
    banners: dict[str, int]
    """Suspension banners on the customer's dashboard, by kind."""


def _twice(event: Envelope[Any]) -> list[Envelope[Any]]:
    """The same fact told again by its source, as a new event."""
    return [event, event.model_copy(update={"event_id": uuid.uuid4()})]


STORIES = {
    "violation and unpaid invoice, the invoice paid": Story(
        lambda o, i, _: [
            confirmed(o),
            overdue([o], "suspend", i),
            paid([o], kind="renewal", invoice_id=i),
        ],
        "suspended_violation",
        {"suspension_violation": 1},
    ),
    "violation and unpaid invoice, the violation lifted": Story(
        lambda o, i, _: [confirmed(o), overdue([o], "suspend", i), lifted(o)],
        "suspended_non_payment",
        {"suspension_non_payment": 1},
    ),
    "unpaid invoice then violation, payment and lift told twice, one invoice still unpaid": Story(
        lambda o, i, j: [
            overdue([o], "suspend", i),
            overdue([o], "suspend", j),
            confirmed(o),
            *_twice(paid([o], kind="renewal", invoice_id=i)),
            *_twice(lifted(o)),
        ],
        "suspended_non_payment",
        {"suspension_non_payment": 1},
    ),
    "two violation cases, one lifted": Story(
        lambda o, i, _: [confirmed(o, "case-1"), *_twice(confirmed(o, "case-2")), lifted(o)],
        "suspended_violation",
        {"suspension_violation": 1},
    ),
    "every cause ended, in the other order than they began": Story(
        lambda o, i, _: [
            confirmed(o),
            overdue([o], "suspend", i),
            *_twice(paid([o], kind="renewal", invoice_id=i)),
            lifted(o),
        ],
        "processed",
        {},
    ),
}


@pytest.mark.parametrize("story", STORIES.values(), ids=STORIES)
async def test_lifting_one_cause_leaves_the_others_everywhere(three: Three, story: Story) -> None:
    me = customer()
    order = (await three.orders.active(me))["id"]
    for fact in story.facts(order, uuid.uuid4(), uuid.uuid4()):
        # Abuse and billing events travel on topics of their own: one at a time, so the
        # order of the facts is the story's.
        before = len(await three.orders.published(order))
        await three.orders.publish(fact)
        await _settled(three.orders, order, before)

    assert (await three.orders.detail(order))["status"] == story.status
    told = [
        e
        for e in await three.orders.published(order)
        if e["type"] in ("order.suspended", "order.reactivated")
    ]
    assert told[-1]["data"]["status"] == story.status, "downstream learns the resulting status"

    await _duplicate(three.orders, told[-1])  # the relay may publish an event twice
    everything = {e["event_id"] for e in await three.orders.published(order)}
    await _notifier_shows(three.notifier, order, customer_id(me), everything, story)
    await _journal_header_shows(three.audit, order, everything, story.status)


async def _settled(orders: Orders, order: str, before: int) -> None:
    """Wait until a fact's effect is published, or a moment has shown it changes nothing."""

    async def published() -> bool:
        return len(await orders.published(order)) > before

    # A fact told twice, or one that changes nothing, publishes nothing.
    with contextlib.suppress(AssertionError):
        await eventually(published, timeout=3)


async def _duplicate(orders: Orders, event: dict[str, Any]) -> None:
    """Publish one of the orders service's events again, as its relay may after a crash."""
    model = c.ORDERS.parse(json.dumps(event))
    producer = AIOKafkaProducer(bootstrap_servers=orders.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            orders.prefix + c.ORDERS.name,
            model.model_dump_json().encode(),
            key=str(model.order_id).encode(),
        )
    finally:
        await producer.stop()


async def _notifier_shows(
    notifier: RunningService, order: str, customer: str, event_ids: set[str], story: Story
) -> None:
    async def scalar(sql: str) -> Any:
        async with notifier.runtime.database.sessions() as session:
            return await session.scalar(text(sql))

    wanted = ", ".join(f"'{event_id}'" for event_id in event_ids)

    async def applied() -> bool:
        count = await scalar(f"SELECT count(*) FROM inbox WHERE event_id IN ({wanted})")
        return bool(count == len(event_ids))

    await eventually(applied, timeout=WAIT)
    page = await notifier.http.get(
        "/banners", headers=bearer("customer", customer), params={"placement": "dashboard"}
    )
    assert page.status_code == 200, page.text
    kinds = Counter(b["kind"] for b in page.json()["items"] if b["kind"].startswith("suspension"))
    assert kinds == Counter(story.banners)
    # The notifier's copy of the order (which decides, e.g., who gets renewal reminders).
    assert await scalar(f"SELECT status FROM orders WHERE order_id = '{order}'") == story.status


async def _journal_header_shows(
    audit: RunningService, order: str, event_ids: set[str], status: str
) -> None:
    async def page() -> dict[str, Any] | None:
        answer = await journal(audit, uuid.UUID(order), limit=200)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        journaled = {entry["event_id"] for entry in found["entries"]}
        return found if event_ids <= journaled else None

    assert (await eventually(page, timeout=WAIT))["header"]["status"] == status
