"""Journal ingest throughput, hash chain included (events/s), of the real audit service against a
ceiling measured in the same run on the same topic data: raw aiokafka ``getmany`` and asyncpg
``COPY`` of the same rows (precomputed dummy hashes) into a table of the journal's shape.

    uv run python -m bench.journal_ingest [--orders 200 --events-per-order 25]

Every event is published before either consumer starts; each reads with its own group. Ours is
timed from its first journal entry (recorded as its event is consumed) until the journal table
holds every entry, both read from PostgreSQL's clock. Budget (ARCHITECTURE.md): ours ÷ ceiling
≥ 0.5."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from bench.report import Figure, table
from contracts import TOPICS, Envelope, OrderStatus, SuspensionCause
from services.audit.tables import journal_entries
from services.kit.clock import SystemClock
from services.kit.consumer import BATCH
from services.kit.runtime import asyncpg_dsn
from tests.apps import prepare_topics, running_service
from tests.audit import events as make
from tests.stack import servers

COLUMNS = [column.name for column in journal_entries.columns]
DUMMY_HASH = "0" * 64


def order_history(order_id: UUID, count: int) -> list[Envelope[Any]]:
    """``order.placed``, then a mix of order and invoice events about the order."""
    at = [make.T0 + timedelta(minutes=n) for n in range(count)]
    invoice = uuid4()
    mix: list[Callable[[datetime], Envelope[Any]]] = [
        lambda t: make.accepted(order_id, t),
        lambda t: make.invoice_issued([order_id], t, invoice),
        lambda t: make.held(order_id, t, OrderStatus.IN_PROGRESS),
        lambda t: make.released(order_id, t, OrderStatus.IN_PROGRESS),
        lambda t: make.invoice_paid([order_id], t, invoice),
        lambda t: make.completed(order_id, t),
        lambda t: make.suspended(order_id, t, SuspensionCause.VIOLATION),
        lambda t: make.reactivated(order_id, t, SuspensionCause.VIOLATION),
        lambda t: make.cancellation_scheduled(order_id, t),
    ]
    first: Envelope[Any] = make.placed(order_id, at[0])
    return [first] + [mix[n % len(mix)](at[n]) for n in range(1, count)]


def topic_of(event: Envelope[Any]) -> str:
    return next(t.name for t in TOPICS.values() if type(event) in t.models.values())


async def produce(bootstrap: str, prefix: str, orders: int, per_order: int) -> int:
    """Publish as the producers do: on the event's topic, keyed by its order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, enable_idempotence=True)
    await producer.start()
    sent = [
        await producer.send(
            prefix + topic_of(event),
            event.model_dump_json().encode(),
            key=str(event.order_id).encode(),
        )
        for _ in range(orders)
        for event in order_history(uuid4(), per_order)
    ]
    await asyncio.gather(*sent)
    await producer.stop()
    return len(sent)


def entry_row(payload: dict[str, Any], seq: int) -> tuple[Any, ...]:
    """A row of ``journal_entries`` for one event, hashes precomputed (dummies)."""
    actor = payload["actor"]
    values = {
        "order_id": UUID(payload["order_id"]),
        "seq": seq,
        "kind": "system",
        "event_type": payload["type"],
        "event_id": UUID(payload["event_id"]),
        "occurred_at": datetime.fromisoformat(payload["occurred_at"]),
        "recorded_at": datetime.now(UTC),
        "actor_kind": actor["kind"],
        "actor_id": actor["id"],
        "summary": json.dumps({"title": payload["type"]}),
        "details": json.dumps(payload["data"]),
        "visible_to_customer": True,
        "corrects": None,
        "prev_hash": DUMMY_HASH,
        "hash": DUMMY_HASH,
        "signature": None,
    }
    return tuple(values[name] for name in COLUMNS)


async def ceiling(url: str, bootstrap: str, prefix: str, total: int) -> float:
    """getmany batches of the kit's size, each COPY'd into the table, then offsets committed."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(journal_entries.create)
    await engine.dispose()
    database = await asyncpg.connect(asyncpg_dsn(url))
    consumer = AIOKafkaConsumer(
        *(prefix + name for name in TOPICS),
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seqs: dict[str, int] = {}
    seen = 0
    started = 0.0
    while seen < total:
        batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
        records = [record for part in batch.values() for record in part]
        if not records:
            continue
        started = started or time.perf_counter()
        rows = []
        for record in records:
            payload = json.loads(record.value)
            seqs[payload["order_id"]] = seq = seqs.get(payload["order_id"], 0) + 1
            rows.append(entry_row(payload, seq))
        await database.copy_records_to_table("journal_entries", records=rows, columns=COLUMNS)
        await consumer.commit()
        seen += len(records)
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await database.close()
    return total / elapsed


async def ours(stack: Any, prefix: str, total: int) -> float:
    """The audit service's runtime in-process; polls the journal table until it is complete."""
    async with running_service("audit", stack, prefix=prefix, clock=SystemClock()) as service:
        database = await asyncpg.connect(asyncpg_dsn(service.database_url))
        while True:
            count, now = await database.fetchrow(
                "SELECT count(*), clock_timestamp() FROM journal_entries"
            )
            if count >= total:
                break
            await asyncio.sleep(0.02)
        first = await database.fetchval("SELECT min(recorded_at) FROM journal_entries")
        await database.close()
    return float(total / (now - first).total_seconds())


async def run(orders: int, per_order: int) -> list[Figure]:
    with servers() as stack:
        prefix = f"bench{uuid4().hex[:8]}."
        await prepare_topics(stack, prefix)
        total = await produce(stack.kafka_bootstrap, prefix, orders, per_order)
        url = await stack.create_database(f"bench_journal_{prefix.strip('.')}")
        base = await ceiling(url, stack.kafka_bootstrap, prefix, total)
        mine = await ours(stack, prefix, total)
    return [
        Figure(
            f"journal ingest, hash chain included ({orders} orders x {per_order} events)",
            mine,
            base,
            "events/s",
            0.5,
            ceiling_note="aiokafka `getmany` + asyncpg `COPY`",
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--events-per-order", type=int, default=25)
    arguments = parser.parse_args()
    print(table(asyncio.run(run(arguments.orders, arguments.events_per_order))))
