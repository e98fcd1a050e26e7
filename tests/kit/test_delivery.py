"""The delivery guarantees of the kit, against the real Kafka and PostgreSQL: the outbox relay
and the consumer policy (inbox, DLQ, commit after the DB commit)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from uuid import UUID, uuid4

import asyncpg
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select

from services.kit.db import Database
from services.kit.dlq import replay
from services.kit.kafka import make_broker
from services.kit.outbox import OutboxRelay, outbox
from services.kit.runtime import asyncpg_dsn
from tests.helpers import eventually, read_topic
from tests.kit.conftest import ProbeProcess, ProbeSetup
from tests.kit.probe import HANDLER_GATE, effects, probe


async def write_events(database: Database, orders: list[UUID], per_order: int) -> None:
    """Each order's events written in its own transactions, in sequence."""
    for seq in range(per_order):
        for order_id in orders:
            async with database.unit_of_work() as work:
                work.publish(probe(order_id, seq))


async def count(database: Database, table) -> int:  # type: ignore[no-untyped-def]
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def unpublished(database: Database) -> int:
    async with database.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
            or 0
        )


async def test_relay_killed_between_publish_and_mark_is_applied_once(
    kit: ProbeSetup, processes: list[ProbeProcess]
) -> None:
    orders = [uuid4() for _ in range(5)]
    await write_events(kit.database, orders, per_order=4)

    crashing = ProbeProcess(kit, "crash-relay")
    processes.append(crashing)
    assert crashing.wait(60) == -9, "the relay should have died by SIGKILL after publishing"
    assert await unpublished(kit.database) == 20, "nothing was marked: the kill came first"

    processes.append(ProbeProcess(kit, "relay"))
    await eventually(lambda: _is_zero(unpublished(kit.database)))
    on_topic = await read_topic(kit.bootstrap, kit.topic.name)
    assert len(on_topic) == 40, "every event was published twice: once before the kill"

    processes.append(ProbeProcess(kit, "consume", group="probe-once"))
    await eventually(lambda: _equals(count(kit.database, effects), 20))
    await asyncio.sleep(1.0)  # let the duplicates arrive too
    assert await count(kit.database, effects) == 20


async def test_two_relays_publish_each_row_once_in_order_per_order(kit: ProbeSetup, stack) -> None:  # type: ignore[no-untyped-def]
    orders = [uuid4() for _ in range(20)]
    brokers = [make_broker(kit.bootstrap, client_id=f"relay-{n}") for n in range(2)]
    databases = [Database(kit.url, producer="probe", topic=kit.topic.name) for _ in range(2)]
    relays = [
        OutboxRelay(db.sessions, kafka, listen_dsn=asyncpg_dsn(kit.url), batch_size=7)
        for db, kafka in zip(databases, brokers, strict=True)
    ]
    for kafka in brokers:
        await kafka.connect()
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        await write_events(kit.database, orders, per_order=15)
        await eventually(lambda: _is_zero(unpublished(kit.database)))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for kafka in brokers:
            await kafka.stop()
        for db in databases:
            await db.dispose()

    assert all(relay.published > 0 for relay in relays) or sum(r.published for r in relays) == 300
    on_topic = await read_topic(kit.bootstrap, kit.topic.name)
    events = [json.loads(value) for _, value, _ in on_topic]
    assert len({e["event_id"] for e in events}) == 300
    assert len(events) == 300, "no row was published twice"
    sequences: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for (partition, _, _), event in zip(on_topic, events, strict=True):
        sequences[event["order_id"]].append(event["data"]["seq"])
        partitions[event["order_id"]].add(partition)
    assert all(seqs == list(range(15)) for seqs in sequences.values())
    assert all(len(found) == 1 for found in partitions.values()), "key = order_id"


async def test_duplicate_event_is_applied_once(
    kit: ProbeSetup, broker: KafkaBroker, processes: list[ProbeProcess]
) -> None:
    event = probe(uuid4(), 1)
    for _ in range(3):
        await broker.publish(
            event.model_dump_json().encode(), topic=kit.topic.name, key=str(event.order_id).encode()
        )
    last = probe(event.order_id, 2)
    await broker.publish(
        last.model_dump_json().encode(), topic=kit.topic.name, key=str(last.order_id).encode()
    )
    processes.append(ProbeProcess(kit, "consume"))
    await eventually(lambda: _equals(count(kit.database, effects), 2))
    async with kit.database.sessions() as session:
        applied = (await session.execute(select(effects.c.event_id))).scalars().all()
    assert sorted(map(str, applied)) == sorted([str(event.event_id), str(last.event_id)])


async def test_malformed_message_goes_to_dlq_and_the_next_is_processed(
    kit: ProbeSetup, broker: KafkaBroker, processes: list[ProbeProcess]
) -> None:
    order_id = uuid4()
    bad = [
        b"{not json",
        json.dumps({**json.loads(probe_json(order_id)), "type": "probe.unknown"}).encode(),
        json.dumps({**json.loads(probe_json(order_id)), "occurred_at": "yesterday"}).encode(),
    ]
    for raw in bad:
        await broker.publish(raw, topic=kit.topic.name, key=str(order_id).encode())
    good = probe(order_id, 7)
    await broker.publish(
        good.model_dump_json().encode(), topic=kit.topic.name, key=str(order_id).encode()
    )

    processes.append(ProbeProcess(kit, "consume"))
    await eventually(lambda: _equals(count(kit.database, effects), 1))
    dead = await eventually(lambda: _at_least(read_topic(kit.bootstrap, kit.topic.dlq), 3))
    assert [value for _, value, _ in dead] == bad, "original bytes, in order"
    errors = [headers["x-dlq-error"].decode() for _, _, headers in dead]
    assert "json" in errors[0].lower()
    assert "probe.unknown@1" in errors[1]
    assert errors[2].startswith("probe.happened@1.occurred_at:")
    assert all(h["x-original-topic"].decode() == kit.topic.name for _, _, h in dead)
    kinds = [headers["x-dlq-kind"].decode() for _, _, headers in dead]
    assert kinds == ["invalid", "unknown_type", "invalid"]


async def test_handler_bug_is_dead_lettered_after_retries_and_the_flow_goes_on(
    kit: ProbeSetup, broker: KafkaBroker, processes: list[ProbeProcess]
) -> None:
    order_id = uuid4()
    poison = probe(order_id, 1, note="bug")
    good = probe(order_id, 2)
    for event in (poison, good):
        await broker.publish(
            event.model_dump_json().encode(), topic=kit.topic.name, key=str(order_id).encode()
        )
    processes.append(ProbeProcess(kit, "consume"))
    await eventually(lambda: _equals(count(kit.database, effects), 1))
    dead = await eventually(lambda: _at_least(read_topic(kit.bootstrap, kit.topic.dlq), 1))
    assert json.loads(dead[0][1])["event_id"] == str(poison.event_id)
    assert "the probe handler has a bug" in dead[0][2]["x-dlq-error"].decode()


async def test_consumer_killed_before_its_commit_gets_the_message_again(
    kit: ProbeSetup, stack, broker: KafkaBroker, processes: list[ProbeProcess]
) -> None:  # type: ignore[no-untyped-def]
    gate = await asyncpg.connect(stack.admin_url(kit.url.rsplit("/", 1)[1]))
    await gate.execute(f"SELECT pg_advisory_lock({HANDLER_GATE})")
    event = probe(uuid4(), 1, note="gate")
    await broker.publish(
        event.model_dump_json().encode(), topic=kit.topic.name, key=str(event.order_id).encode()
    )
    first = ProbeProcess(kit, "consume")
    processes.append(first)

    async def handler_waits_inside_its_transaction() -> bool:
        return bool(
            await gate.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
        )

    await eventually(handler_waits_inside_its_transaction)
    first.kill()
    await gate.execute(f"SELECT pg_advisory_unlock({HANDLER_GATE})")
    await gate.close()
    assert await count(kit.database, effects) == 0

    processes.append(ProbeProcess(kit, "consume"))
    await eventually(lambda: _equals(count(kit.database, effects), 1))


def probe_json(order_id: UUID) -> str:
    return probe(order_id, 0).model_dump_json()


async def _is_zero(value) -> bool:  # type: ignore[no-untyped-def]
    return await value == 0


async def _equals(value, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected


async def _at_least(found, n: int):  # type: ignore[no-untyped-def]
    items = await found
    return items if len(items) >= n else None


async def test_dlq_replay_after_the_fix_applies_each_message_once(
    kit: ProbeSetup, broker: KafkaBroker, processes: list[ProbeProcess]
) -> None:
    order_id = uuid4()
    poisoned = [probe(order_id, seq, note="bug") for seq in range(3)]
    for event in poisoned:
        await broker.publish(
            event.model_dump_json().encode(), topic=kit.topic.name, key=str(order_id).encode()
        )
    first = ProbeProcess(kit, "consume")
    processes.append(first)
    await eventually(lambda: _at_least(read_topic(kit.bootstrap, kit.topic.dlq), 3))
    first.kill()
    assert await count(kit.database, effects) == 0

    processes.append(ProbeProcess(kit, "consume", "probe", "--fixed"))
    assert await replay(kit.bootstrap, kit.topic.dlq, group=f"replay-{kit.topic.name}") == 3
    assert await replay(kit.bootstrap, kit.topic.dlq, group=f"again-{kit.topic.name}") == 3
    await eventually(lambda: _equals(count(kit.database, effects), 3))
    await asyncio.sleep(1.0)  # the second replay's copies arrive too, and change nothing
    assert await count(kit.database, effects) == 3
