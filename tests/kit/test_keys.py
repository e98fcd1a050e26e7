"""Kafka keys, on every topic the services read, against the real Kafka: an event about an order
is applied only when keyed by its ``order_id`` exactly (the partition, and so the order of the
order's events, follows the key's bytes). Keyed otherwise, or not at all, it is dead-lettered as
``wrong_key`` with an error naming the order; an event about no order is applied whatever its
key. What the outbox relay publishes passes the check."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from contracts import ALL_TOPICS, TOPICS
from contracts.envelope import Envelope
from services.kit.consumer import ConsumerMetrics, EventConsumer, RetryPolicy, subscribe
from services.kit.db import Database, UnitOfWork
from services.kit.kafka import ensure_topics, make_broker
from services.kit.outbox import OutboxRelay
from services.kit.runtime import asyncpg_dsn
from tests.contracts.conftest import all_samples  # one valid event of every model
from tests.helpers import eventually, read_topic
from tests.kit.conftest import ProbeSetup

ORDERS_TOPIC = "orders.events"


class Consumed:
    """What the consumers of one test applied, by event id."""

    def __init__(self) -> None:
        self.ids: set[UUID] = set()

    async def record(self, work: UnitOfWork, event: Envelope[Any]) -> None:
        self.ids.add(event.event_id)


@pytest.fixture
async def reading(kit: ProbeSetup, unique: str) -> AsyncIterator[tuple[str, Consumed]]:
    """One consumer per topic of the contracts, under a prefix of the test's own."""
    prefix, consumed = f"keys-{unique}.", Consumed()
    await ensure_topics(kit.bootstrap, [prefix + name for name in TOPICS])
    broker = make_broker(kit.bootstrap, client_id=f"keys-{unique}")
    consumers = [
        EventConsumer(
            name="keys",
            topic=topic,
            handlers=dict.fromkeys(topic.models.values(), consumed.record),
            database=kit.database,
            broker=broker,
            metrics=ConsumerMetrics(CollectorRegistry()),
            retry=RetryPolicy(first_delay=0.05, max_delay=0.5),
            topic_prefix=prefix,
        )
        for topic in TOPICS.values()
    ]
    subscribe(broker, consumers, group_id=f"keys-{unique}", title="keys")
    await broker.start()
    try:
        yield prefix, consumed
    finally:
        await broker.stop()


def topic_of(event: Envelope[Any]) -> str:
    return next(name for name, topic in ALL_TOPICS.items() if type(event) in topic.models.values())


def about_an_order(topic: str) -> Envelope[Any] | None:
    """A sample event of the topic that names an order; monitoring's name one when they know
    it; the gateway's never do (it knows invoices)."""
    samples = [event for event in all_samples() if topic_of(event) == topic]
    named = next((event for event in samples if event.order_id is not None), None)
    if named is None and topic == "monitoring.events":
        return samples[0].model_copy(update={"order_id": uuid4()})
    return named


def about_no_order(topic: str) -> Envelope[Any] | None:
    return next((e for e in all_samples() if topic_of(e) == topic and e.order_id is None), None)


def fresh(event: Envelope[Any]) -> Envelope[Any]:
    return event.model_copy(update={"event_id": uuid4()})


async def test_an_order_s_event_keyed_otherwise_is_dead_lettered_on_every_topic(
    kit: ProbeSetup, broker: KafkaBroker, reading: tuple[str, Consumed]
) -> None:
    prefix, consumed = reading
    good: set[UUID] = set()
    bad: dict[str, dict[UUID, str]] = {topic: {} for topic in TOPICS}  # event -> what came

    async def send(event: Envelope[Any], key: str | None) -> None:
        topic = topic_of(event)
        raw = event.model_dump_json().encode()
        await broker.publish(raw, topic=prefix + topic, key=key.encode() if key else None)

    for topic in TOPICS:
        if (named := about_an_order(topic)) is not None:
            order = str(named.order_id)
            for key, came in [
                (str(uuid4()), "the key '"),
                (None, "no key"),
                (UUID(order).hex, f"the key '{UUID(order).hex}'"),  # the order, other bytes
            ]:
                event = fresh(named)
                await send(event, key)
                bad[topic][event.event_id] = came
            event = fresh(named)
            await send(event, order)
            good.add(event.event_id)
        if (unnamed := about_no_order(topic)) is not None:
            for key in ("INV-anything", None):
                event = fresh(unnamed)
                await send(event, key)
                good.add(event.event_id)
    # Every topic carries events about an order, but the gateway's: it knows invoices only.
    assert [topic for topic, sent in bad.items() if not sent] == ["payments.events"]

    async def dead_letters() -> dict[str, list[tuple[bytes, dict[str, bytes]]]] | None:
        found = {
            topic: [
                (value, headers)
                for _, value, headers in await read_topic(kit.bootstrap, f"{prefix}{topic}.dlq")
            ]
            for topic in TOPICS
        }
        done = all(len(found[t]) >= len(bad[t]) for t in TOPICS) and consumed.ids >= good
        return found if done else None

    letters = await eventually(dead_letters, timeout=60)
    assert consumed.ids == good, "the well-keyed ones applied, no wrongly keyed one"
    for topic, sent in bad.items():
        by_event = {
            UUID(json.loads(value)["event_id"]): headers for value, headers in letters[topic]
        }
        assert set(by_event) == set(sent), topic
        for event_id, came in sent.items():
            headers = {name: raw.decode() for name, raw in by_event[event_id].items()}
            assert headers["x-dlq-kind"] == "wrong_key", (topic, headers)
            assert came in headers["x-dlq-error"], (topic, headers)
            assert "must be keyed by its order_id" in headers["x-dlq-error"]


async def test_what_the_outbox_relay_publishes_is_keyed_as_consumers_require(
    kit: ProbeSetup, reading: tuple[str, Consumed]
) -> None:
    prefix, consumed = reading
    events = [fresh(e) for e in all_samples() if topic_of(e) == ORDERS_TOPIC]
    database = Database(kit.url, producer="orders", topic=prefix + ORDERS_TOPIC)
    relay_broker = make_broker(kit.bootstrap, client_id="keys-relay")
    await relay_broker.connect()
    try:
        async with database.unit_of_work() as work:
            for event in events:
                work.publish(event)
        relay = OutboxRelay(database.sessions, relay_broker, listen_dsn=asyncpg_dsn(kit.url))
        assert await relay.publish_batch() == len(events)
    finally:
        await relay_broker.stop()
        await database.dispose()

    wanted = {event.event_id for event in events}
    await eventually(lambda: _holds(consumed.ids >= wanted), timeout=60)
    assert not await read_topic(kit.bootstrap, f"{prefix}{ORDERS_TOPIC}.dlq")


async def _holds(condition: bool) -> bool:
    return condition
