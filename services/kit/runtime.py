"""What every service process runs beside its HTTP routes: the database, the broker with the
service's consumers, and the outbox relay, started and stopped together in one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry

from contracts.envelope import Actor, Envelope, Topic
from services.kit.clock import Clock, SystemClock
from services.kit.consumer import (
    BatchStep,
    ConsumerMetrics,
    EventConsumer,
    Handler,
    RetryPolicy,
    subscribe,
)
from services.kit.context import Context, Reaction
from services.kit.db import Database, UnitOfWork, asyncpg_dsn
from services.kit.jobs import Scheduler, scheduled
from services.kit.kafka import make_broker
from services.kit.metrics import (
    ConsumerLag,
    OutboxBacklog,
    PoolCollector,
    Refresh,
    add_process_collectors,
    refresh_all,
)
from services.kit.outbox import OutboxRelay
from services.kit.settings import ServiceSettings
from services.kit.tracing import TracedConsumer, TracedUnitOfWork

__all__ = ["Runtime", "asyncpg_dsn"]


class Runtime:
    """The database, broker, consumers and relay of one service process."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        publishes_on: Topic | None,
        registry: CollectorRegistry,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        actor: Actor | None = None,
    ) -> None:
        self.settings = settings
        #: The service's metrics; its jobs and consumers add theirs.
        self.registry = registry
        #: Who acts for a consumed event: this service, or by default the system on behalf of
        #: the event's producer (see :meth:`Context.of_event`).
        self.actor = actor
        self.clock: Clock = clock or SystemClock.from_settings(settings)
        self.name = settings.service_name
        self.publishes_on = publishes_on
        self.database = Database(
            settings.database_url,
            producer=self.name,
            topic=settings.kafka_topic_prefix + publishes_on.name if publishes_on else None,
        )
        self.broker: KafkaBroker = make_broker(settings.kafka(), client_id=self.name)
        self.registry = registry
        self.metrics = ConsumerMetrics(registry)
        self.retry = retry
        self.consumers: list[EventConsumer] = []
        self._consumer_options: list[dict[str, Any]] = []
        self._subscribed = False
        #: Set once, before the runtime starts, when the process traces (:meth:`trace_with`).
        self.tracer: Tracer | None = None
        self.jobs = Scheduler(self.database, self.clock, registry)
        self.relay: OutboxRelay | None = None
        #: Awaited by ``/metrics`` before it answers (:meth:`on_scrape`).
        self.scrape_refreshes: list[Refresh] = []
        self._lag = ConsumerLag(registry)
        add_process_collectors(registry)
        registry.register(PoolCollector(self.database.engine))
        if publishes_on is None:
            return
        self.on_scrape(OutboxBacklog(registry).refresher(self.database.engine))
        self.relay = OutboxRelay(
            self.database.sessions,
            self.broker,
            listen_dsn=asyncpg_dsn(settings.database_url),
            poll_interval=settings.outbox_poll_interval,
            linger=settings.outbox_linger,
        )
        # Documents what this service publishes in its AsyncAPI; the relay does the sending.
        self.broker.publisher(
            settings.kafka_topic_prefix + publishes_on.name,
            title=f"{self.name}:{publishes_on.name}",
            schema=_union_type(publishes_on),
        )

    def consume(
        self,
        topic: Topic,
        reactions: Mapping[type[Envelope[Any]], Reaction],
        prepare: BatchStep | None = None,
    ) -> None:
        """Subscribe this service's group to a topic with a reaction per event model, each
        called ``reaction(work, event, ctx)`` in the consumer's unit of work; ``prepare``, if
        given, runs once for a batch applied together, before its reactions (see
        ``kit.consumer.BatchStep``)."""
        options: dict[str, Any] = {
            "prepare": prepare,
            "name": self.name,
            "topic": topic,
            "handlers": {model: self.bind(reaction) for model, reaction in reactions.items()},
            "database": self.database,
            "broker": self.broker,
            "metrics": self.metrics,
            "retry": self.retry,
            "topic_prefix": self.settings.kafka_topic_prefix,
            "max_message_bytes": self.settings.consumer_max_message_bytes,
        }
        self._consumer_options.append(options)
        self.consumers.append(EventConsumer(**options))

    def bind(self, reaction: Reaction) -> Handler:
        """The consumer's handler for a reaction: the context of the event, on this clock."""
        clock, actor = self.clock, self.actor

        async def handle(work: UnitOfWork, event: Envelope[Any]) -> None:
            await reaction(work, event, Context.of_event(event, clock.now(), actor))

        return handle

    def subscribe(self) -> None:
        """Register the service's consumers with the broker as one subscription (once)."""
        if self._subscribed or not self.consumers:
            return
        self._subscribed = True
        if self.tracer is not None:
            tracer = self.tracer
            self.consumers = [
                TracedConsumer(tracer=tracer, **options) for options in self._consumer_options
            ]
        subscriber = subscribe(
            self.broker,
            self.consumers,
            group_id=self.settings.kafka_topic_prefix + self.name,
            title=f"{self.name}:consumers",
        )
        self.on_scrape(self._lag.refresher(self.name, subscriber))

    def trace_with(self, tracer: Tracer) -> None:
        """Trace this process: units of work carry the trace context into the outbox, and
        each consumed record is applied in a span. Once, before the runtime starts."""
        if self._subscribed:
            raise RuntimeError("tracing is set up before the runtime starts")
        self.tracer = tracer
        self.database.unit_class = TracedUnitOfWork

    def on_scrape(self, refresh: Refresh) -> None:
        """Have ``/metrics`` bring some gauges up to date before it answers."""
        self.scrape_refreshes.append(refresh)

    async def refresh_metrics(self) -> None:
        """The gauges that need a query or the Kafka client, brought up to date."""
        await refresh_all(self.scrape_refreshes)

    async def kafka_ping(self) -> None:
        """Readiness check: the broker answers."""
        if not await self.broker.ping(timeout=2.0):
            # Says why when a broker refuses us (password rotated, certificate replaced).
            await self.settings.kafka().diagnose()
            raise ConnectionError("Kafka does not answer")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start consumers, relay and jobs; on the way out stop the jobs, the relay, then the
        consumers (whatever they leave in the outbox is published at the next start)."""
        self.subscribe()
        await self.broker.start()
        relay = (
            asyncio.create_task(self.relay.run(), name=f"{self.name}-outbox-relay")
            if self.relay
            else None
        )
        try:
            if self.settings.run_jobs:
                async with scheduled(self.jobs):
                    yield
            else:
                yield
        finally:
            if relay is not None:
                relay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay
            await self.broker.stop()
            await self.database.dispose()


def _union_type(topic: Topic) -> Any:
    from typing import Union

    return Union[tuple(topic.models.values())]  # noqa: UP007 - built at runtime
