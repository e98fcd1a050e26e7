"""Every effect exactly once, with two replicas of every service, while processes are killed
(SIGKILL) in the middle of their work, while the outbox relay dies on either side of its
publish, and when every consumed event is delivered again.

One system for the module: two processes of each service on one database each, in one
consumer group each, on the run's real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from services.kit.outbox import RELAY_LOCK
from tests.e2e.system import SERVICES, OutsideWorld, System, running_system
from tests.helpers import eventually, read_topic
from tests.reliability.conftest import Recorder
from tests.reliability.ledger import Workload, audit_ledger, every_row, query
from tests.stack import Servers

#: Orders of the kill test; each lives through about a dozen events across the services.
ORDERS = int(os.environ.get("RELIABILITY_ORDERS", "250"))
#: Long waits: a loaded two-core machine with eight service processes on it.
SETTLE = 600.0

pytestmark = pytest.mark.timeout(1500)


@pytest.fixture(scope="module")
async def system(stack: Servers, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    folder: Path = tmp_path_factory.mktemp("once")
    prefix = f"once{uuid4().hex[:8]}."
    async with running_system(stack, prefix, folder, replicas=2) as found:
        yield found


@pytest.fixture
async def workload(system: System, world: OutsideWorld) -> AsyncIterator[Workload]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield Workload(system, world, http)


async def test_two_replicas_of_every_service_apply_every_effect_once(
    workload: Workload, figures: Recorder
) -> None:
    orders = await workload.place(60, through=["orders", "orders#2"])
    await workload.serve(orders, SETTLE)

    found = await settled(workload.system, orders)
    figures(orders=len(orders), replicas=2, **found.figures())
    assert found.clean, found


async def test_consumers_killed_again_and_again_while_thousands_of_events_flow(
    workload: Workload, figures: Recorder
) -> None:
    system = workload.system
    events_before = await events_on_topics(system)
    orders = await workload.place(ORDERS, through=["orders", "orders#2"])

    kills: list[str] = []
    async with killing_in_turn(system, kills):
        await workload.serve(orders, SETTLE)
    # the customers renew through HTTP (a request to a process killed mid-way has no key to
    # retry it safely with), then the renewal invoices are issued and paid under the kills
    renewed_until = await workload.renew(orders)
    async with killing_in_turn(system, kills):
        await workload.pay(orders, kind="renewal")
        await workload.all_paid_until(renewed_until, SETTLE)

    found = await settled(system, orders, renewed=True)
    events = await events_on_topics(system) - events_before
    figures(orders=len(orders), events=events, kills=len(kills), **found.figures())
    assert len(kills) >= 5, kills
    assert events > 2000, "thousands of events flowed while the consumers were killed"
    assert found.clean, found


async def test_relay_killed_between_commit_and_publish_loses_nothing(
    workload: Workload, figures: Recorder
) -> None:
    """Orders commits the placed orders and billing their invoices, and each dies before its
    relay publishes them: the next process publishes them, each applied once."""
    system = workload.system
    async with relay_held(system, "billing"):
        async with relay_held(system, "orders"):
            orders = await workload.place(20, through=["orders", "orders#2"])
            assert await unpublished(system, "orders", "order.placed", orders) == 20
            kills = await kill_all(system, "orders")
        # orders' new processes publish; billing issues the invoices but cannot publish them
        await system.wait_ready(only=["orders", "orders#2"])
        await eventually(
            lambda: _equals(unpublished(system, "billing", "invoice.issued", orders), 20),
            timeout=SETTLE,
        )
        kills += await kill_all(system, "billing")
    await system.wait_ready()

    await workload.serve(orders, SETTLE)
    found = await settled(system, orders)
    figures(events_held=40, kills=kills, **found.figures())
    assert found.clean, found


async def test_relay_killed_between_publish_and_mark_publishes_again_and_applies_once(
    workload: Workload, figures: Recorder
) -> None:
    """The relay has sent its batch to Kafka but dies before it marks the rows: the next one
    sends them again, and the consumers apply each event once."""
    system = workload.system
    async with relay_held(system, "billing") as billing_relay:
        async with relay_held(system, "orders") as orders_relay:
            orders = await workload.place(20, through=["orders", "orders#2"])
            async with mark_blocked(system, "orders"):
                await orders_relay.release()
                await eventually(
                    lambda: _at_least(
                        on_topic(system, "orders.events", "order.placed", orders), 20
                    ),
                    timeout=SETTLE,
                )
                kills = await kill_all(system, "orders")
        await system.wait_ready(only=["orders", "orders#2"])
        await eventually(
            lambda: _at_least(on_topic(system, "orders.events", "order.placed", orders), 40),
            timeout=SETTLE,
        )
        await eventually(
            lambda: _equals(unpublished(system, "billing", "invoice.issued", orders), 20),
            timeout=SETTLE,
        )
        async with mark_blocked(system, "billing"):
            await billing_relay.release()
            await eventually(
                lambda: _at_least(on_topic(system, "billing.events", "invoice.issued", orders), 20),
                timeout=SETTLE,
            )
            kills += await kill_all(system, "billing")
    await system.wait_ready()

    await workload.serve(orders, SETTLE)
    found = await settled(system, orders)
    sent_twice = (await on_topic(system, "orders.events", "order.placed", orders)) + (
        await on_topic(system, "billing.events", "invoice.issued", orders)
    )
    figures(events=40, published=sent_twice, kills=kills, **found.figures())
    assert sent_twice == 80, "each event reached Kafka twice: once before the kill"
    assert found.clean, found


async def test_every_consumed_event_delivered_again_has_no_new_effect(
    system: System, figures: Recorder
) -> None:
    """Every consumer group back to the beginning of every topic: all events of this module
    arrive again, and not one row changes anywhere."""
    system.stop()
    before = await every_row(system)
    redelivered = await rewind_groups(system)
    started = time.monotonic()
    system.start()
    await system.wait_ready()
    await eventually(lambda: caught_up(system), timeout=SETTLE, interval=1.0)
    seconds = round(time.monotonic() - started, 1)
    await asyncio.sleep(3)  # a last batch in flight, if any, would have landed by now
    after = await every_row(system)

    changed = {
        table: (before[table], after[table]) for table in before if before[table] != after[table]
    }
    figures(events_redelivered=redelivered, seconds_to_catch_up=seconds, new_effects=len(changed))
    assert redelivered > 1000
    assert not changed, changed


# --- the faults -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def killing_in_turn(system: System, kills: list[str]) -> AsyncIterator[None]:
    """Kill processes in turn while the body runs; all of them are up again at the end."""
    killing = asyncio.create_task(kill_in_turn(system, kills, every=4.0))
    try:
        yield
    finally:
        killing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await killing
        await system.wait_ready()


async def kill_in_turn(system: System, kills: list[str], every: float) -> None:
    """SIGKILL one consumer process after another (both replicas of every service), starting
    each again at once, until cancelled."""
    turn = [name for name in system.names()]
    while True:
        await asyncio.sleep(every)
        victim = turn[len(kills) % len(turn)]
        system.kill(victim)
        kills.append(victim)
        system.start_one(victim)


async def kill_all(system: System, service: str) -> int:
    """SIGKILL both replicas of a service and start them again; returns the kills."""
    victims = [name for name in system.names() if name.partition("#")[0] == service]
    for victim in victims:
        assert system.kill(victim) == -9
    for victim in victims:
        system.start_one(victim)
    return len(victims)


class HeldRelay:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def release(self) -> None:
        if not self.connection.is_closed():
            await self.connection.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK)


@contextlib.asynccontextmanager
async def relay_held(system: System, service: str) -> AsyncIterator[HeldRelay]:
    """Hold the lock a service's relays take to publish: none of them publishes meanwhile."""
    connection = await connect(system, service)
    await connection.execute("SELECT pg_advisory_lock($1)", RELAY_LOCK)
    held = HeldRelay(connection)
    try:
        yield held
    finally:
        await held.release()
        await connection.close()


@contextlib.asynccontextmanager
async def mark_blocked(system: System, service: str) -> AsyncIterator[None]:
    """Let the relay read and publish its rows but not mark them published: a SHARE lock on
    the outbox allows its ``SELECT ... FOR UPDATE`` and blocks its ``UPDATE``."""
    connection = await connect(system, service)
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute("LOCK TABLE outbox IN SHARE MODE")
    try:
        yield
    finally:
        await transaction.rollback()
        await connection.close()


async def connect(system: System, service: str) -> asyncpg.Connection:
    database = f"{service}_{system.prefix.strip('.')}"
    return await asyncpg.connect(system.stack.admin_url(database))


async def unpublished(system: System, service: str, event_type: str, orders: list[str]) -> int:
    rows = await query(
        system,
        service,
        "SELECT payload FROM outbox WHERE published_at IS NULL",
    )
    wanted = set(orders)
    return sum(
        1
        for (payload,) in rows
        if (event := json.loads(payload))["type"] == event_type and event["order_id"] in wanted
    )


async def on_topic(system: System, topic: str, event_type: str, orders: list[str]) -> int:
    wanted = set(orders)
    found = 0
    for _partition, value, _headers in await read_topic(
        system.stack.kafka_bootstrap, system.prefix + topic
    ):
        event = json.loads(value)
        found += event["type"] == event_type and event.get("order_id") in wanted
    return found


async def settled(system: System, orders: list[str], renewed: bool = False) -> Any:
    """The ledger, once the last effects (tickets, mails, journal entries) have landed."""

    async def complete() -> Any:
        found = await audit_ledger(system, orders, renewed)
        return found if not found.lost else None

    try:
        return await eventually(complete, timeout=SETTLE, interval=2.0)
    except AssertionError:
        return await audit_ledger(system, orders, renewed)


# --- consumer groups --------------------------------------------------------------------------


def groups(system: System) -> list[str]:
    return [system.prefix + name for name in SERVICES]


async def rewind_groups(system: System) -> int:
    """Commit offset 0 on every partition each service's group has consumed (the group is
    empty: every process is stopped). Returns how many events will be delivered again."""
    bootstrap = system.stack.kafka_bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = {g: await admin.list_consumer_group_offsets(g) for g in groups(system)}
    finally:
        await admin.close()
    total = 0
    for group, offsets in committed.items():
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = list(offsets)
            consumer.assign(partitions)
            beginnings = await consumer.beginning_offsets(partitions)
            total += sum(offsets[tp].offset - beginnings[tp] for tp in partitions)
            await consumer.commit({tp: OffsetAndMetadata(beginnings[tp], "") for tp in partitions})
        finally:
            await consumer.stop()
    return total


async def caught_up(system: System) -> bool:
    """Every group has committed up to the end of every partition it reads."""
    bootstrap = system.stack.kafka_bootstrap
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        for group in groups(system):
            offsets = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(list(offsets))
            if any(offsets[tp].offset < ends[tp] for tp in offsets):
                return False
        return True
    finally:
        await consumer.stop()
        await admin.close()


async def events_on_topics(system: System) -> int:
    """Events on the system's topics so far (dead-letter topics aside)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=system.stack.kafka_bootstrap)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # partitions of every topic, not just ours
        topics = [t for t in await consumer.topics() if t.startswith(system.prefix)]
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            if not topic.endswith(".dlq")
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        ends = await consumer.end_offsets(partitions)
        return sum(ends.values())
    finally:
        await consumer.stop()


async def _equals(value: Any, wanted: int) -> bool:
    return await value == wanted


async def _at_least(value: Any, wanted: int) -> bool:
    return await value >= wanted
