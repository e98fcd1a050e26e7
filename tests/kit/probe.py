"""A minimal service built on the kit, for testing the kit itself against the real servers.

Run as a process (``python -m tests.kit.probe consume|relay|crash-relay ...``) so tests can
kill it with SIGKILL at the moments that matter."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from prometheus_client import CollectorRegistry
from sqlalchemy import Column, DateTime, Integer, Table, Uuid, func, text
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.envelope import SYSTEM_ACTOR, Contract, Envelope, Topic
from services.kit.consumer import ConsumerMetrics, EventConsumer, RetryPolicy, inbox, subscribe
from services.kit.db import Database, UnitOfWork, new_metadata
from services.kit.kafka import make_broker
from services.kit.outbox import NOTIFY_TRIGGER, OutboxRelay, outbox
from services.kit.runtime import asyncpg_dsn

#: Advisory lock a test holds to keep a probe handler inside its open transaction.
HANDLER_GATE = 4242


class ProbeData(Contract):
    seq: int
    note: str = ""


class Probe(Envelope[ProbeData]):
    """``probe.happened``: one numbered event of one order."""

    type: Literal["probe.happened"] = "probe.happened"
    version: Literal[1] = 1
    order_id: UUID


@dataclass
class Record:
    """A consumed Kafka record, as aiokafka hands it over."""

    topic: str
    value: bytes
    key: bytes | None
    offset: int
    partition: int = 0
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def probe(order_id: UUID, seq: int, note: str = "") -> Probe:
    return Probe(
        occurred_at=datetime.now(UTC),
        producer="probe",
        correlation_id=uuid4(),
        actor=SYSTEM_ACTOR,
        order_id=order_id,
        data=ProbeData(seq=seq, note=note),
    )


metadata = new_metadata()
effects = Table(
    "effects",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("applied_at", DateTime(timezone=True), server_default=func.now()),
)


async def create_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for table in (outbox, inbox, effects):
            await connection.run_sync(table.create, checkfirst=True)
        for statement in NOTIFY_TRIGGER:  # as the services' migrations install it
            await connection.execute(text(statement))
    await engine.dispose()


async def record_effect(work: UnitOfWork, event: Probe, *, fixed: bool = False) -> None:
    """The probe's effect: one row per event. Notes steer it for the tests; ``fixed`` is the
    release in which the bug that "bug" notes trigger was mended."""
    if event.data.note == "gate":
        await work.session.execute(text(f"SELECT pg_advisory_xact_lock({HANDLER_GATE})"))
    if event.data.note == "bug" and not fixed:
        raise RuntimeError("the probe handler has a bug")
    await work.session.execute(
        effects.insert().values(
            event_id=event.event_id, order_id=event.order_id, seq=event.data.seq
        )
    )


def probe_consumer(
    database: Database, broker: Any, topic: Topic, group: str, *, fixed: bool = False
) -> EventConsumer:
    return EventConsumer(
        name=group,
        topic=topic,
        handlers={Probe: functools.partial(record_effect, fixed=fixed)},
        database=database,
        broker=broker,
        metrics=ConsumerMetrics(CollectorRegistry()),
        retry=RetryPolicy(first_delay=0.05, max_delay=0.5),
    )


class CrashingRelay(OutboxRelay):
    """Dies the hard way after Kafka acknowledged a batch and before the rows are marked."""

    async def _send(self, rows: Any) -> None:
        await super()._send(rows)
        os.kill(os.getpid(), signal.SIGKILL)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["consume", "relay", "crash-relay"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", default="probe")
    parser.add_argument("--fixed", action="store_true", help="run the release with the bug fixed")
    args = parser.parse_args(argv)
    topic = Topic(args.topic, Probe)
    database = Database(args.url, producer="probe", topic=args.topic)
    broker = make_broker(args.bootstrap, client_id=args.group)
    if args.mode == "consume":
        consumer = probe_consumer(database, broker, topic, args.group, fixed=args.fixed)
        subscribe(broker, [consumer], group_id=args.group, title="probe")
        await broker.start()
        print("ready", flush=True)
        await asyncio.Event().wait()
    relay_class = CrashingRelay if args.mode == "crash-relay" else OutboxRelay
    relay = relay_class(database.sessions, broker, listen_dsn=asyncpg_dsn(args.url))
    await broker.start()
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main())
