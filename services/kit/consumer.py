"""The consumer policy every service follows.

- A message is parsed into its contract; one that does not parse or validate, or whose type
  the contracts do not define, goes to ``<topic>.dlq`` with its original bytes and the error
  in headers (``x-dlq-kind``: invalid, unknown_type or handler), and the consumer goes on.
- A known type this consumer has no handler for is skipped and counted.
- The handler runs in one unit of work together with an inbox row ``(consumer, event_id)``:
  a duplicate delivery finds the row and changes nothing.
- A transient fault (database or broker unreachable, serialisation conflict) is retried with
  backoff for as long as it lasts, never skipped. Any other error is retried a few times and
  then dead-lettered with the error, so one poison message cannot stop the partition.
- The offset is committed only after the database commit (manual acknowledgement): a process
  killed before that gets the message again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError
from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table, Uuid, func
from sqlalchemy.dialects.postgresql import insert

from contracts.envelope import Envelope, Topic
from services.kit.db import Database, UnitOfWork
from services.kit.faults import is_transient

log = logging.getLogger(__name__)

inbox_metadata = MetaData()

inbox = Table(
    "inbox",
    inbox_metadata,
    Column("consumer", String(100), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
)

Handler = Callable[[UnitOfWork, Any], Awaitable[None]]


#: Records fetched and committed together: one offset commit per batch, not per message.
BATCH = 200


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for transient faults (unbounded) and attempts for other errors (bounded)."""

    first_delay: float = 0.2
    max_delay: float = 10.0
    attempts_before_dlq: int = 3

    def delay(self, attempt: int) -> float:
        return min(self.first_delay * 2.0 ** (attempt - 1), self.max_delay)


class ConsumerMetrics:
    """Counters of what the consumers did, by consumer, topic and outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "consumer_messages",
            "Messages handled, by outcome",
            ["consumer", "topic", "outcome"],
            registry=registry,
        )


class EventConsumer:
    """Consumes one topic for one service, following the policy above."""

    def __init__(
        self,
        *,
        name: str,
        topic: Topic,
        handlers: Mapping[type[Envelope[Any]], Handler],
        database: Database,
        broker: KafkaBroker,
        metrics: ConsumerMetrics,
        retry: RetryPolicy | None = None,
        topic_prefix: str = "",
    ) -> None:
        self.name = name
        self.topic = topic
        #: Names on the cluster: a prefix keeps environments (or test runs) apart.
        self.topic_name = topic_prefix + topic.name
        self.dlq_name = topic_prefix + topic.dlq
        self.handlers = dict(handlers)
        self.database = database
        self.broker = broker
        self.metrics = metrics
        self.retry = retry or RetryPolicy()

    async def handle(self, raw: bytes, record: Any) -> str:
        """Apply one message; returns the outcome (applied, duplicate, skipped, dead_lettered)."""
        outcome = await self._handle(raw, record)
        self.metrics.messages.labels(self.name, self.topic_name, outcome).inc()
        return outcome

    async def _handle(self, raw: bytes, record: Any) -> str:
        try:
            event = self.topic.parse(raw)
        except ValidationError as error:
            # A type the contracts do not define is dead-lettered too, not dropped: once the
            # contracts know it, replaying the DLQ applies it.
            kind = "unknown_type" if self.topic.unknown_tag(error) else "invalid"
            await self.dead_letter(raw, record, kind, _describe(error))
            return "dead_lettered"
        handler = self.handlers.get(type(event))
        if handler is None:
            return "skipped"
        return await self._apply_with_retries(event, handler, raw, record)

    async def _apply_with_retries(
        self, event: Envelope[Any], handler: Handler, raw: bytes, record: Any
    ) -> str:
        failures = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._apply(event, handler)
            except Exception as error:
                if not is_transient(error):
                    failures += 1
                    if failures >= self.retry.attempts_before_dlq:
                        log.exception("handler failed for %s, dead-lettering", event.event_id)
                        await self.dead_letter(raw, record, "handler", repr(error))
                        return "dead_lettered"
                delay = self.retry.delay(attempt)
                log.warning("retrying %s in %.1fs after %r", event.event_id, delay, error)
                await asyncio.sleep(delay)

    async def _apply(self, event: Envelope[Any], handler: Handler) -> str:
        async with self.database.unit_of_work() as work:
            first_time = await work.session.scalar(
                insert(inbox)
                .values(consumer=self.name, event_id=event.event_id, event_type=event.type)
                .on_conflict_do_nothing()
                .returning(inbox.c.event_id)
            )
            if first_time is None:
                return "duplicate"
            await handler(work, event)
        return "applied"

    async def dead_letter(self, raw: bytes, record: Any, kind: str, error: str) -> None:
        """Publish the original bytes to the topic's DLQ with the error; awaits the broker's ack."""
        key = getattr(record, "key", None)
        await self.broker.publish(
            raw,
            topic=self.dlq_name,
            key=key,
            headers={
                "x-dlq-kind": kind,
                "x-dlq-error": error[:4000],
                "x-dlq-consumer": self.name,
                "x-original-topic": str(getattr(record, "topic", self.topic_name)),
                "x-original-partition": str(getattr(record, "partition", "")),
                "x-original-offset": str(getattr(record, "offset", "")),
            },
        )
        log.warning("dead-lettered a message of %s: %s", self.topic_name, error[:300])


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '(message)'}: {item['msg']}"
        for item in error.errors(include_url=False)
    )


def subscribe(
    broker: KafkaBroker, consumers: Sequence[EventConsumer], *, group_id: str, title: str
) -> None:
    """Subscribe a service's group to every topic its consumers read, as one Kafka consumer.

    One member per service process, not one per topic: each member that joins a group makes
    the others rebalance, and a service reading seven topics would wait through seven of them.
    Batches of up to ``BATCH`` records; each record goes to its topic's consumer in partition
    order, each in its own transaction; the batch's offsets are committed after the last one
    is in the database. A crash in between redelivers the batch; the inbox skips what was
    applied already."""
    by_topic = {consumer.topic_name: consumer for consumer in consumers}

    async def consume(message: KafkaMessage) -> None:
        for record in message.raw_message:
            await by_topic[record.topic].handle(record.value or b"", record)
        await message.ack()

    consume.__name__ = title.replace(":", "_").replace(".", "_").replace("-", "_")
    broker.subscriber(
        *by_topic,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        batch=True,
        max_records=BATCH,
        title=title,
    )(consume)
