"""FastStream consumer throughput with the kit's policy (batches of ``BATCH`` records, the
records left undecoded, manual acknowledgement after the batch's work), handler doing nothing,
against a raw aiokafka ``getmany`` drain of the same topic in the same run (msg/s), the best
of three alternating rounds each.

    uv run python -m bench.consumer [--messages 20000]

Goal: ours ÷ ceiling ≥ 0.8 (the architecture's first budget was 0.7)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy

from bench.report import Figure, table
from services.kit.consumer import BATCH, raw_batch
from services.kit.kafka import ensure_topics
from tests.stack import servers

ROUNDS = 3


async def produce(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    payload = b'{"type": "bench", "padding": "' + b"x" * 400 + b'"}'
    pending = [await producer.send(topic, payload, key=str(n % 64).encode()) for n in range(count)]
    await asyncio.gather(*pending)
    await producer.stop()


async def ceiling(bootstrap: str, topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid4().hex[:6]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    seen = 0
    started = time.perf_counter()
    while seen < count:
        batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
        seen += sum(len(records) for records in batch.values())
        await consumer.commit()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return count / elapsed


async def ours(bootstrap: str, topic: str, count: int) -> float:
    broker = KafkaBroker(bootstrap, log_level=logging.DEBUG)
    done = asyncio.Event()
    seen = 0
    started = 0.0

    @broker.subscriber(
        topic,
        group_id=f"fs-{uuid4().hex[:6]}",
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        batch=True,
        max_records=BATCH,
        decoder=raw_batch,
    )
    async def handle(message: KafkaMessage) -> None:
        nonlocal seen, started
        if seen == 0:
            started = time.perf_counter()
        for _record in message.raw_message:
            seen += 1
        await message.ack()
        if seen >= count:
            done.set()

    await broker.start()
    await done.wait()
    elapsed = time.perf_counter() - started
    await broker.stop()
    return count / elapsed


async def run(count: int) -> list[Figure]:
    with servers() as stack:
        topic = f"bench-consume-{uuid4().hex[:8]}"
        await ensure_topics(stack.kafka_bootstrap, [topic])
        await produce(stack.kafka_bootstrap, topic, count)
        # A drain takes a second or two: the best of a few alternating rounds (each a group
        # of its own), so that one hiccup of the machine does not decide the ratio.
        bases, mine = [], []
        for _ in range(ROUNDS):
            bases.append(await ceiling(stack.kafka_bootstrap, topic, count))
            mine.append(await ours(stack.kafka_bootstrap, topic, count))
    return [
        Figure(
            f"consumer, no-op handler, the kit's ack policy ({count:,} messages)",
            max(mine),
            max(bases),
            "msg/s",
            0.8,
            ours_note=f"best of {ROUNDS}",
            ceiling_note=f"aiokafka `getmany`, best of {ROUNDS}",
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    print(table(asyncio.run(run(parser.parse_args().messages))))
