"""Outbox relay throughput, commit → Kafka ack (rows/s), against a ceiling measured in the same
run: a minimal asyncpg relay (``SKIP LOCKED``, batches of 500, aiokafka sends awaited together).

    uv run python -m bench.outbox_relay [--rows 20000]

Goal: ours ÷ ceiling ≥ 0.6."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaProducer

from bench.report import Figure, table
from contracts import SYSTEM_ACTOR, OrderCommentChanged
from contracts.orders import OrderCommentChangedData
from services.kit.db import Database
from services.kit.kafka import ensure_topics, make_broker
from services.kit.outbox import OutboxRelay, outbox
from services.kit.runtime import asyncpg_dsn
from tests.stack import servers

BATCH = 500


def event() -> OrderCommentChanged:
    return OrderCommentChanged(
        occurred_at=datetime.now(UTC),
        producer="bench",
        correlation_id=uuid4(),
        actor=SYSTEM_ACTOR,
        order_id=uuid4(),
        data=OrderCommentChangedData(comment="bench"),
    )


async def fill(database: Database, rows: int) -> None:
    for _ in range(rows // BATCH):
        async with database.unit_of_work() as work:
            for _ in range(BATCH):
                work.publish(event())


async def ours(url: str, bootstrap: str, topic: str, rows: int) -> float:
    database = Database(url, producer="bench", topic=topic)
    await fill(database, rows)
    broker = make_broker(bootstrap, client_id="bench-relay")
    await broker.connect()
    relay = OutboxRelay(database.sessions, broker, listen_dsn=asyncpg_dsn(url), batch_size=BATCH)
    started = time.perf_counter()
    while await relay.publish_batch():
        pass
    elapsed = time.perf_counter() - started
    await broker.stop()
    await database.dispose()
    return rows / elapsed


async def ceiling(url: str, bootstrap: str, topic: str, rows: int) -> float:
    database = Database(url, producer="bench", topic=topic)
    await fill(database, rows)
    await database.dispose()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    started = time.perf_counter()
    while True:
        async with connection.transaction():
            batch = await connection.fetch(
                "SELECT id, topic, key, payload FROM outbox WHERE published_at IS NULL "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                BATCH,
            )
            if not batch:
                break
            sent = [
                await producer.send(r["topic"], r["payload"], key=r["key"].encode()) for r in batch
            ]
            await asyncio.gather(*sent)
            await connection.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1)",
                [r["id"] for r in batch],
            )
    elapsed = time.perf_counter() - started
    await producer.stop()
    await connection.close()
    return rows / elapsed


async def run(rows: int) -> list[Figure]:
    with servers() as stack:
        topic = f"bench-{uuid4().hex[:8]}.events"
        await ensure_topics(stack.kafka_bootstrap, [topic])
        urls = [await stack.create_database(f"bench_relay_{n}") for n in range(2)]
        for url in urls:
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(url)
            async with engine.begin() as connection:
                await connection.run_sync(outbox.create)
            await engine.dispose()
        base = await ceiling(urls[0], stack.kafka_bootstrap, topic, rows)
        mine = await ours(urls[1], stack.kafka_bootstrap, topic, rows)
    return [
        Figure(
            f"outbox relay, commit → Kafka ack ({rows:,} rows)",
            mine,
            base,
            "rows/s",
            0.6,
            ceiling_note="asyncpg `SKIP LOCKED` relay, batches of 500",
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    print(table(asyncio.run(run(parser.parse_args().rows))))
