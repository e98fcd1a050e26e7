"""The metrics every service process exports beside its own: process and platform, the
database pool, the outbox backlog and the consumers' lag.

Nothing here runs per request or per record. The pool is read when Prometheus scrapes (the
pool's own counters, no I/O); the backlog (one indexed query) and the lag (the Kafka client's
cached offsets) are refreshed by the ``/metrics`` route just before it answers, so they cost
one query per scrape and nothing between scrapes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.kit.faults import is_transient
from services.kit.logs import get_logger
from services.kit.outbox import outbox

log = get_logger(__name__)

Refresh = Callable[[], Awaitable[None]]
"""Brings some gauges up to date; awaited by ``/metrics`` before it answers."""

#: How long a scrape waits for its refreshes; a slow database leaves the last values.
REFRESH_TIMEOUT_SECONDS = 2.0


def add_process_collectors(registry: CollectorRegistry) -> None:
    """CPU, memory, open files, start time (``process_*``) and the Python version."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)


class PoolCollector(Collector):
    """The SQLAlchemy pool of a service's engine, read at scrape time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool: Any = self.engine.sync_engine.pool
        yield GaugeMetricFamily(
            "db_pool_size", "Connections the pool keeps open (not counting overflow)", pool.size()
        )
        yield GaugeMetricFamily(
            "db_pool_checked_out", "Connections in use by a request or message", pool.checkedout()
        )
        yield GaugeMetricFamily(
            "db_pool_overflow",
            "Connections opened beyond the pool's size (negative: room left before it)",
            pool.overflow(),
        )


class OutboxBacklog:
    """Rows written to the outbox and not yet published, and how old the oldest one is."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.rows = Gauge(
            "outbox_backlog", "Outbox rows not yet published to Kafka", registry=registry
        )
        self.oldest = Gauge(
            "outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none waits)",
            registry=registry,
        )

    def refresher(self, engine: AsyncEngine) -> Refresh:
        query = select(
            func.count(),
            func.coalesce(func.extract("epoch", func.now() - func.min(outbox.c.created_at)), 0),
        ).where(outbox.c.published_at.is_(None))

        async def refresh() -> None:
            async with engine.connect() as connection:
                rows, age = (await connection.execute(query)).one()
            self.rows.set(rows)
            self.oldest.set(float(age))

        return refresh


class ConsumerLag:
    """Per assigned partition: records on the broker beyond the last one handed to this
    service's consumer (high watermark minus position), from the client's cached offsets."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Gauge(
            "consumer_lag",
            "Records of a partition not yet handed to the consumer",
            ["consumer", "topic", "partition"],
            registry=registry,
        )

    def refresher(self, consumer: str, subscriber: Any) -> Refresh:
        async def refresh() -> None:
            client = getattr(subscriber, "consumer", None)
            # Partitions move between replicas: drop those this process no longer holds.
            self.lag.clear()
            if client is None:
                return
            for partition in client.assignment():
                highwater = client.highwater(partition)
                if highwater is None:  # nothing fetched from it yet
                    continue
                position = await client.position(partition)
                self.lag.labels(consumer, partition.topic, str(partition.partition)).set(
                    max(highwater - position, 0)
                )

        return refresh


async def refresh_all(refreshes: Iterable[Refresh]) -> None:
    """Run every refresh, within :data:`REFRESH_TIMEOUT_SECONDS`. A database or broker that
    does not answer leaves the previous values (the scrape still answers, and ``/readyz``
    says what is down); any other error is a bug and propagates."""
    try:
        async with asyncio.timeout(REFRESH_TIMEOUT_SECONDS):
            await asyncio.gather(*(refresh() for refresh in refreshes))
    except Exception as error:
        if not (isinstance(error, TimeoutError) or is_transient(error)):
            raise
        log.warning("metrics_refresh_failed", error=repr(error))
