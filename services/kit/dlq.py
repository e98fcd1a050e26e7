"""Replay of a dead-letter topic: after the fix (a contract or a handler), each message goes
back to the topic it came from, with its original bytes and key. Consumers are idempotent by
event id, so replaying twice, or replaying a message that was later delivered anyway, applies
it once.

    python -m services.kit.dlq replay orders.events.dlq [--bootstrap 127.0.0.1:59092]

Replays what the DLQ holds when the command starts, then stops; its consumer group
(``dlq-replay``) remembers how far it got, so a second run replays only newer messages."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

REPLAY_GROUP = "dlq-replay"


async def replay(bootstrap: str, dlq: str, *, group: str = REPLAY_GROUP) -> int:
    """Republish every message now in ``dlq`` to its original topic; returns how many."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await consumer.start()
    await producer.start()
    try:
        return await _drain(consumer, producer, dlq)
    finally:
        await consumer.stop()
        await producer.stop()


async def _drain(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, dlq: str) -> int:
    partitions = [TopicPartition(dlq, p) for p in sorted(await producer.partitions_for(dlq))]
    # Assigned by hand: one replay at a time; the group only keeps the committed offsets.
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    replayed = 0
    while await _behind(consumer, ends):
        batch = await consumer.getmany(timeout_ms=1000)
        for records in batch.values():
            for record in records:
                headers = dict(record.headers)
                original = headers["x-original-topic"].decode()
                await producer.send_and_wait(
                    original,
                    record.value,
                    key=record.key,
                    headers=[("x-replayed-from", dlq.encode())],
                )
                replayed += 1
        # Committed only after the republished messages were acknowledged.
        await consumer.commit()
    return replayed


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    replay_command = commands.add_parser("replay", help="republish a DLQ to its original topic")
    replay_command.add_argument("dlq", help="the dead-letter topic, e.g. orders.events.dlq")
    replay_command.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:59092")
    )
    args = parser.parse_args(argv)
    count = asyncio.run(replay(args.bootstrap, args.dlq))
    print(f"replayed {count} message(s) from {args.dlq}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
