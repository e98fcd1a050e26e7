"""Replay of a dead-letter topic: after the fix (a contract or a handler), each message goes
back to the topic it came from, with its original bytes and key. Consumers are idempotent by
event id, so replaying twice, or replaying a message that was later delivered anyway, applies
it once.

    python -m services.kit.dlq replay orders.events.dlq [billing.events.dlq ...]
        [--consumer audit] [--kind handler] [--group NAME] [--bootstrap 127.0.0.1:59092]

Replays what each DLQ holds when the command starts, then stops; its consumer group
(``dlq-replay``) remembers how far it got, so a second run replays only newer messages.

A topic's DLQ is shared by every service that consumes the topic (``x-dlq-consumer`` names the
one that dead-lettered the message), so one bad message is there once per consumer: a run sends
each original message (topic, partition, offset) back once. ``--consumer`` and ``--kind`` replay
only what one fix is about (e.g. the audit service's handler failures) and leave the rest where
it is; such a run has a group of its own (``dlq-replay-audit-handler``), so what it passed over is
still there for a later run with other filters. ``--group`` names another group, e.g. to replay
everything again from the beginning."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.kit.kafka import KafkaConnection
from services.kit.settings import ServiceSettings

REPLAY_GROUP = "dlq-replay"


@dataclass(frozen=True)
class Only:
    """Which dead letters a replay sends back: those of one consumer, of one kind, or all."""

    consumer: str | None = None
    kind: str | None = None

    def wants(self, headers: dict[str, bytes]) -> bool:
        return all(
            wanted is None or headers.get(name, b"").decode() == wanted
            for name, wanted in (("x-dlq-consumer", self.consumer), ("x-dlq-kind", self.kind))
        )

    def group(self) -> str:
        """The replay group of these filters: its own position in the DLQ."""
        return "-".join([REPLAY_GROUP, *(part for part in (self.consumer, self.kind) if part)])


async def replay(
    kafka: KafkaConnection | str, dlq: str, *, group: str | None = None, only: Only | None = None
) -> int:
    """Republish the messages now in ``dlq`` (those ``only`` wants: all by default) to their
    original topic, each original message once; returns how many were republished."""
    only = only or Only()
    connection = kafka if isinstance(kafka, KafkaConnection) else KafkaConnection(kafka)
    options = connection.client_options()
    consumer = AIOKafkaConsumer(
        **options,
        group_id=group or only.group(),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(**options, enable_idempotence=True)
    await consumer.start()
    await producer.start()
    try:
        return await _drain(consumer, producer, dlq, only)
    finally:
        await consumer.stop()
        await producer.stop()


async def _drain(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, dlq: str, only: Only
) -> int:
    partitions = [TopicPartition(dlq, p) for p in sorted(await producer.partitions_for(dlq))]
    # Assigned by hand: one replay at a time; the group only keeps the committed offsets.
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    replayed = 0
    sent: set[tuple[bytes, bytes, bytes]] = set()
    while await _behind(consumer, ends):
        batch = await consumer.getmany(timeout_ms=1000)
        done: dict[TopicPartition, int] = {}
        for partition, records in batch.items():
            for record in records:
                if record.offset >= ends[partition]:
                    break  # dead-lettered after the start: left for the next run
                done[partition] = record.offset + 1
                headers = dict(record.headers)
                if not only.wants(headers):
                    continue
                position = _original_position(headers)
                if position is not None:
                    if position in sent:
                        continue  # dead-lettered by another consumer too: sent back once
                    sent.add(position)
                original = headers["x-original-topic"].decode()
                await producer.send_and_wait(
                    original,
                    record.value,
                    key=record.key,
                    headers=[("x-replayed-from", dlq.encode())],
                )
                replayed += 1
        # Committed only after the republished messages were acknowledged, never past the
        # end the run started with.
        if done:
            await consumer.commit(done)
    return replayed


def _original_position(headers: dict[str, bytes]) -> tuple[bytes, bytes, bytes] | None:
    """Where the message was on its original topic, when its dead letter says so."""
    position = tuple(
        headers.get(name, b"")
        for name in ("x-original-topic", "x-original-partition", "x-original-offset")
    )
    return (position[0], position[1], position[2]) if all(position) else None


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    replay_command = commands.add_parser("replay", help="republish a DLQ to its original topic")
    replay_command.add_argument(
        "dlq", nargs="+", help="the dead-letter topic(s), e.g. orders.events.dlq"
    )
    replay_command.add_argument(
        "--consumer", help="only what this service dead-lettered (x-dlq-consumer), e.g. audit"
    )
    replay_command.add_argument(
        "--kind", help="only dead letters of this kind (x-dlq-kind), e.g. handler"
    )
    replay_command.add_argument(
        "--group", help="the replay's consumer group (default: dlq-replay[-consumer][-kind])"
    )
    replay_command.add_argument(
        "--bootstrap", help="the brokers (default: KAFKA_BOOTSTRAP_SERVERS, as the services)"
    )
    args = parser.parse_args(argv)
    only = Only(consumer=args.consumer, kind=args.kind)
    # The shared KAFKA_* variables, TLS and login included, read as the services read them.
    kafka = ServiceSettings().kafka()
    if args.bootstrap:
        kafka = dataclasses.replace(kafka, bootstrap_servers=args.bootstrap)
    for dlq in args.dlq:
        count = asyncio.run(replay(kafka, dlq, group=args.group, only=only))
        print(f"replayed {count} message(s) from {dlq}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
