"""Small helpers the test tiers share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T]], timeout: float = 30.0, interval: float = 0.1
) -> T:
    """Poll an async check until it returns a truthy value; fail with its last value.

    For effects that arrive through Kafka: the test waits for them, it does not sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        await asyncio.sleep(interval)


async def outbox_drained(engine: AsyncEngine) -> None:
    """Wait until a service's relay has published every outbox row committed so far (what a
    request or a job commits leaves after it, through the relay's linger): then its topic
    holds all of it."""

    async def drained() -> bool:
        async with engine.connect() as connection:
            left = await connection.scalar(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            )
        return bool(left == 0)

    await eventually(drained)


async def read_topic(bootstrap: str, topic: str) -> list[tuple[int, bytes, dict[str, bytes]]]:
    """Every message now on a topic: (partition, value, headers), in partition order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[int, bytes, dict[str, bytes]]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                found.extend((tp.partition, r.value, dict(r.headers)) for r in records)
        return found
    finally:
        await consumer.stop()
