"""Events that arrive before what they refer to: parked, replayed later, never dropped.

Other services' facts may come early (``service.delivered`` before the order is accepted, an
order's event before its ``order.placed``). A consumer that cannot apply one yet parks it under
the order it names, in the same transaction as its inbox row, and takes the order's parked
events back (oldest first) once the order can take them. An event parked longer than the
service's ``parked_max_age`` goes to its topic's DLQ (``x-dlq-kind: parked_expired``), to be
replayed by hand with ``services.kit.dlq``. The ``parked_events`` gauge says how many wait."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts import TOPICS
from contracts.envelope import Envelope
from services.kit.db import NAMING_CONVENTION, UnitOfWork
from services.kit.jobs import JobRun
from services.kit.runtime import Runtime

log = logging.getLogger(__name__)

EXPIRE_PARKED = "expire_parked_events"
#: Parked events dead-lettered per pass at most; a full pass runs again at once.
EXPIRY_BATCH = 100

parking_metadata = MetaData(naming_convention=NAMING_CONVENTION)

parked_events = Table(
    "parked_events",
    parking_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("order_id", Uuid, nullable=False, index=True),
    Column("topic", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False),
)

#: The topic each event model travels on, to park and parse it again.
_TOPIC_OF = {model: topic for topic in TOPICS.values() for model in topic.models.values()}


async def park(session: AsyncConnection, event: Envelope[Any], now: datetime) -> None:
    """Keep an event naming an order that cannot take it yet."""
    assert event.order_id is not None, "only events about an order are parked"
    await session.execute(
        parked_events.insert().values(
            order_id=event.order_id,
            topic=_TOPIC_OF[type(event)].name,
            payload=event.model_dump_json().encode(),
            parked_at=now,
        )
    )


async def take(session: AsyncConnection, order_id: UUID) -> list[Envelope[Any]]:
    """Remove and return the order's parked events, oldest first, parsed again."""
    taken = await session.execute(
        delete(parked_events)
        .where(parked_events.c.order_id == order_id)
        .returning(parked_events.c.id, parked_events.c.topic, parked_events.c.payload)
    )
    rows = sorted(taken.all(), key=lambda row: row.id)
    return [TOPICS[row.topic].parse(row.payload) for row in rows]


class ParkingMetrics:
    """How many events wait, and how many were given up on, per service."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.waiting = Gauge(
            "parked_events",
            "Inbound events parked until what they refer to arrives",
            ["consumer"],
            registry=registry,
        )
        self.expired = Counter(
            "parked_events_expired",
            "Parked events dead-lettered because what they refer to never arrived",
            ["consumer", "topic"],
            registry=registry,
        )


def schedule_expiry(runtime: Runtime, registry: CollectorRegistry) -> None:
    """Register the job that dead-letters events parked longer than ``parked_max_age``."""
    runtime.jobs.add(
        EXPIRE_PARKED,
        runtime.settings.parked_check_interval,
        expire(runtime, ParkingMetrics(registry)),
        batch_size=EXPIRY_BATCH,
    )


def expire(runtime: Runtime, metrics: ParkingMetrics) -> JobRun:
    settings = runtime.settings
    prefix = settings.kafka_topic_prefix

    async def run(work: UnitOfWork, now: datetime) -> int:
        """Published before the commit: a pass that fails to commit publishes them again,
        which a DLQ reader sees as the same event twice, never as one lost."""
        expired = await _take_expired(work.session, now - settings.parked_max_age)
        for row in expired:
            await runtime.broker.publish(
                row.payload,
                topic=f"{prefix}{row.topic}.dlq",
                key=str(row.order_id).encode(),
                headers={
                    "x-dlq-kind": "parked_expired",
                    "x-dlq-error": f"order {row.order_id} could not take it since {row.parked_at}",
                    "x-dlq-consumer": settings.service_name,
                    "x-original-topic": prefix + row.topic,
                },
            )
            metrics.expired.labels(settings.service_name, row.topic).inc()
            log.warning("parked event about order %s dead-lettered", row.order_id)
        waiting = await work.session.scalar(select(func.count()).select_from(parked_events))
        metrics.waiting.labels(settings.service_name).set(waiting or 0)
        return len(expired)

    return run


async def _take_expired(session: AsyncConnection, before: datetime) -> list[Any]:
    """Remove and return up to a batch of events parked before ``before``."""
    query = (
        select(parked_events)
        .where(parked_events.c.parked_at < before)
        .order_by(parked_events.c.id)
        .limit(EXPIRY_BATCH)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.execute(query)).all()
    await session.execute(delete(parked_events).where(parked_events.c.id.in_([r.id for r in rows])))
    return list(rows)
