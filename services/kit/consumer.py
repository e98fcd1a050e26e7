"""The consumer policy every service follows.

- A message is parsed into its contract; one that does not parse or validate, whose type or
  version the contracts do not define, or that is larger than the consumer accepts
  (``max_message_bytes``, 256 KiB unless set) goes to ``<topic>.dlq`` with its original bytes
  and the error in headers (``x-dlq-kind``: invalid, unknown_type, unknown_version, oversized,
  wrong_key or handler; ``x-dlq-consumer``: the service that could not apply it), and the
  consumer goes on. An oversized message is not parsed at all.
- An event about an order (envelope ``order_id``) must be keyed by that id, or it is
  dead-lettered as ``wrong_key``: Kafka keeps order only within a partition, which the key
  picks, so an order's event under another key could overtake its predecessors. An event about
  no order (a payment, an incident known by IP) is keyed as its producer chooses.
- A known type this consumer has no handler for is skipped and counted.
- Records come in batches; a batch is applied in one transaction (one commit, not one per
  record) with an inbox row ``(consumer, event_id)`` per event: a duplicate delivery finds
  the row and changes nothing. The batch's inbox rows are claimed by one statement and its
  handlers run one after the other, with no savepoint per record; when a handler fails, that
  transaction is rolled back and the batch applied again one record at a time, each in a
  savepoint of its own with its inbox row, so the failing record rolls back alone, with the
  events it queued.
- A transient fault (database or broker unreachable, serialisation conflict) is retried with
  backoff for as long as it lasts, never skipped. Any other error is retried a few times and
  then dead-lettered with the error, so one poison message cannot stop the partition.
- The offset is committed only after the database commit (manual acknowledgement): a process
  killed before that gets the message again.
- A commit that has not returned after ``COMMIT_PATIENCE`` seconds means the Kafka consumer is
  wedged (aiokafka's client can lose its metadata task when the broker dies under it, and its
  commits then wait forever, long after the broker is back): the consumer is rebuilt, and the
  batch whose commit was lost comes again, which the inbox skips."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import insert

from contracts.envelope import Envelope, Topic
from services.kit.db import Database, UnitOfWork
from services.kit.faults import is_transient
from services.kit.logs import bind_event, bind_ids

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
#: Run once for a batch applied together, after its inbox rows are claimed and before its
#: handlers, with the events new to the consumers that share it, in batch order: for what
#: each handler would do with a round trip of its own (e.g. lock, in one statement, the rows
#: they will each lock). The per-record path does not run it.
BatchStep = Callable[[UnitOfWork, Sequence[Envelope[Any]]], Awaitable[None]]


#: Records fetched and committed together: one offset commit per batch, not per message.
BATCH = 200

#: Seconds a batch's offset commit may take before the Kafka consumer is rebuilt. A healthy
#: commit takes milliseconds, and one held up by a broker outage returns once the broker is
#: back; this bounds the wait of one whose client will never recover.
COMMIT_PATIENCE = 30.0
#: Seconds a wedged consumer gets to stop before it is abandoned, and between two tries to
#: start its replacement (the broker may be down still).
_REBUILD_STEP = 5.0

#: The largest message a consumer parses, in bytes; a larger one is dead-lettered unparsed.
#: Real events are a few KiB (the largest: an invoice with many lines); this bounds the memory
#: and time one message from a broken producer can take, well below Kafka's own 1 MiB.
MAX_MESSAGE_BYTES = 256 * 1024


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
        self.dead_letters = Counter(
            "dlq_messages",
            "Messages sent to a dead-letter topic (acknowledged by Kafka), by kind",
            ["consumer", "topic", "kind"],
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
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        prepare: BatchStep | None = None,
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
        self.max_message_bytes = max_message_bytes
        self.prepare = prepare

    def classify(self, record: Any) -> Envelope[Any] | DeadLetter | None:
        """The record's event when this consumer handles it, the dead letter when it cannot be
        applied, None when it is a known type this consumer has no handler for."""
        raw: bytes = record.value or b""
        if len(raw) > self.max_message_bytes:
            error = (
                f"oversized: {len(raw)} bytes, more than the {self.max_message_bytes} bytes "
                f"a consumer of {self.topic.name} accepts (not parsed)"
            )
            return DeadLetter(self, raw, record, "oversized", error)
        try:
            event = self.topic.parse(raw)
        except ValidationError as error:
            # A type or version the contracts do not define is dead-lettered too, not dropped:
            # once the contracts know it, replaying the DLQ applies it.
            tag = self.topic.unknown_tag(error)
            if tag is None:
                return DeadLetter(self, raw, record, "invalid", _describe(error))
            kind, error_text = self._unknown(tag)
            return DeadLetter(self, raw, record, kind, error_text)
        if (misrouted := _wrong_key(event, getattr(record, "key", None))) is not None:
            return DeadLetter(self, raw, record, "wrong_key", misrouted, event)
        return event if type(event) in self.handlers else None

    async def apply(self, work: UnitOfWork, record: Any) -> DeadLetter | None:
        """Apply one record inside the batch's unit of work, in a savepoint of its own; returns
        the dead letter to publish when the record cannot be applied.

        A transient fault propagates: the whole batch is rolled back and tried again."""
        event = self.classify(record)
        if event is None:
            self._outcome("skipped")
            return None
        if isinstance(event, DeadLetter):
            return self._count(event)
        with bind_event(str(event.event_id), str(event.correlation_id)):
            return await self._apply_event(work, record, event)

    async def _apply_event(
        self, work: UnitOfWork, record: Any, event: Envelope[Any]
    ) -> DeadLetter | None:
        raw: bytes = record.value or b""
        handler = self.handlers[type(event)]
        failures = 0
        while True:
            try:
                self._outcome(await self._apply_once(work, event, handler))
                return None
            except Exception as error:
                if is_transient(error):
                    raise
                failures += 1
                if failures >= self.retry.attempts_before_dlq:
                    log.exception("handler failed for %s, dead-lettering", event.event_id)
                    return self._count(DeadLetter(self, raw, record, "handler", repr(error), event))
                delay = self.retry.delay(failures)
                log.warning("retrying %s in %.1fs after %r", event.event_id, delay, error)
                await asyncio.sleep(delay)

    def _unknown(self, tag: str) -> tuple[str, str]:
        """The kind and error of a well-formed message whose ``type@version`` is not defined."""
        type_, _, version = tag.rpartition("@")
        known = sorted(known for known in self.topic.models if known.rpartition("@")[0] == type_)
        if known:
            return "unknown_version", (
                f"{tag}: unknown version {version} of {type_} on {self.topic.name} "
                f"(the contracts define {', '.join(known)})"
            )
        return "unknown_type", (
            f"{tag}: unknown event type {type_} on {self.topic.name} "
            f"(the contracts define {', '.join(self.topic.models)})"
        )

    async def _apply_once(self, work: UnitOfWork, event: Envelope[Any], handler: Handler) -> str:
        queued = len(work.events)
        try:
            async with work.session.begin_nested():
                first_time = await work.session.scalar(
                    insert(inbox)
                    .values(consumer=self.name, event_id=event.event_id, event_type=event.type)
                    .on_conflict_do_nothing()
                    .returning(inbox.c.event_id)
                )
                if first_time is None:
                    return "duplicate"
                await handler(work, event)
        except BaseException:
            del work.events[queued:]  # the events of a rolled-back record never leave
            raise
        return "applied"

    def _outcome(self, outcome: str) -> None:
        self.metrics.messages.labels(self.name, self.topic_name, outcome).inc()

    def _count(self, letter: DeadLetter) -> DeadLetter:
        self._outcome("dead_lettered")
        return letter

    async def dead_letter(
        self, raw: bytes, record: Any, kind: str, error: str, event: Envelope[Any] | None = None
    ) -> None:
        """Publish the original bytes to the topic's DLQ with the error; awaits the broker's ack.
        The log line names the event: its envelope's ids when it was parsed, else what the
        record's headers say."""
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
        self.metrics.dead_letters.labels(self.name, self.topic_name, kind).inc()
        ids = record_ids(record) if event is None else _ids_of(event)
        with bind_ids(ids):
            log.warning("dead-lettered a message of %s: %s", self.topic_name, error[:300])


@dataclass(frozen=True)
class DeadLetter:
    """A record that cannot be applied, on its way to its topic's DLQ."""

    consumer: EventConsumer
    raw: bytes
    record: Any
    kind: str
    error: str
    #: The parsed event, when the record parsed (its ids name it in the log).
    event: Envelope[Any] | None = None

    async def send(self) -> None:
        await self.consumer.dead_letter(self.raw, self.record, self.kind, self.error, self.event)


async def apply_batch(
    database: Database,
    by_topic: Mapping[str, EventConsumer],
    records: Sequence[Any],
    retry: RetryPolicy,
) -> None:
    """Apply a batch of records in one transaction, each record in a savepoint; then publish
    the batch's dead letters. Returns only when all of that is done, so the caller's offset
    commit never passes a record that was not applied or dead-lettered (acknowledging a later
    batch would commit past this one). A fault here is a fault of the database or the
    broker, the handlers' own errors being contained per record: the batch is retried with
    backoff for as long as it lasts, and the inbox skips what an earlier try applied."""
    attempt = 0
    while True:
        attempt += 1
        current: Any = None  # the record being applied: a fault there is logged with its ids
        try:
            try:
                letters = await _apply_together(database, by_topic, records)
            except _NotTogether as failed:
                with bind_ids(failed.ids):
                    log.info(
                        "a batch of %d is applied one record at a time: %r", len(records), failed
                    )
                async with database.unit_of_work() as work:
                    letters = []
                    for current in records:
                        if letter := await by_topic[current.topic].apply(work, current):
                            letters.append(letter)
                    current = None
            for letter in letters:
                await letter.send()
            return
        except Exception as error:
            delay = retry.delay(attempt)
            report = log.warning if is_transient(error) else log.exception
            with bind_ids(record_ids(current) if current is not None else {}):
                report("batch of %d not applied, retrying in %.1fs: %r", len(records), delay, error)
            await asyncio.sleep(delay)


class _NotTogether(Exception):
    """A handler failed on the fast path: the batch is applied again one record at a time."""

    def __init__(self, message: str, ids: dict[str, str] | None = None) -> None:
        super().__init__(message)
        #: The failing event's ids, for the log line (none when the batch's own writes failed).
        self.ids = ids or {}


#: The batch's inbox rows in one statement; the rows it returns are the events new to it.
_CLAIM = text("""
INSERT INTO inbox (consumer, event_id, event_type)
SELECT * FROM unnest(CAST(:consumers AS varchar[]), CAST(:ids AS uuid[]), CAST(:types AS varchar[]))
ON CONFLICT DO NOTHING
RETURNING consumer, event_id
""")


async def _apply_together(
    database: Database, by_topic: Mapping[str, EventConsumer], records: Sequence[Any]
) -> list[DeadLetter]:
    """The fast path: the whole batch in one transaction, its inbox rows claimed by one
    statement, no savepoint per record; the dead letters to publish are returned.

    Handlers run in record order, exactly as on the per-record path, and their effects commit
    together with the inbox rows. When a handler fails, everything is rolled back and
    ``_NotTogether`` raised: the per-record path then contains the failing record in its own
    savepoint, retries it and dead-letters it alone. A transient fault propagates as is."""
    found = [(by_topic[record.topic], record) for record in records]
    classified = [(consumer, consumer.classify(record)) for consumer, record in found]
    events = [(consumer, event) for consumer, event in classified if isinstance(event, Envelope)]
    outcomes: list[tuple[EventConsumer, str]] = []
    async with database.unit_of_work() as work:
        work.together = True
        new = await _claim(work, events)
        await _prepare(work, events, new)
        for consumer, event in events:
            key = (consumer.name, event.event_id)
            if key not in new:  # applied before, or twice in this batch
                outcomes.append((consumer, "duplicate"))
                continue
            new.discard(key)
            try:
                with bind_event(str(event.event_id), str(event.correlation_id)):
                    await consumer.handlers[type(event)](work, event)
            except Exception as error:
                if is_transient(error):
                    raise
                raise _NotTogether(
                    f"{event.type} {event.event_id}: {error!r}", _ids_of(event)
                ) from error
            outcomes.append((consumer, "applied"))
        try:
            await work.flush()
        except Exception as error:
            if is_transient(error):
                raise
            raise _NotTogether(f"the batch's own writes failed: {error!r}") from error
    letters = []
    for consumer, outcome in classified:
        if outcome is None:
            consumer._outcome("skipped")
        elif isinstance(outcome, DeadLetter):
            letters.append(consumer._count(outcome))
    for consumer, counted in outcomes:
        consumer._outcome(counted)
    return letters


async def _prepare(
    work: UnitOfWork,
    events: Sequence[tuple[EventConsumer, Envelope[Any]]],
    new: set[tuple[str, Any]],
) -> None:
    """Each distinct batch step of the batch's consumers, once, with their new events."""
    steps: dict[BatchStep, list[Envelope[Any]]] = {}
    fresh = set(new)
    for consumer, event in events:
        key = (consumer.name, event.event_id)
        if consumer.prepare is not None and key in fresh:
            fresh.discard(key)  # twice in this batch: once
            steps.setdefault(consumer.prepare, []).append(event)
    for step, batch in steps.items():
        try:
            await step(work, batch)
        except Exception as error:
            if is_transient(error):
                raise
            raise _NotTogether(f"the batch's preparation failed: {error!r}") from error


async def _claim(
    work: UnitOfWork, events: Sequence[tuple[EventConsumer, Envelope[Any]]]
) -> set[tuple[str, Any]]:
    """Insert the inbox rows of ``events``; the (consumer, event id) pairs that were new."""
    if not events:
        return set()
    claimed = await work.session.execute(
        _CLAIM,
        {
            "consumers": [consumer.name for consumer, _ in events],
            "ids": [event.event_id for _, event in events],
            "types": [event.type for _, event in events],
        },
    )
    return {(row.consumer, row.event_id) for row in claimed}


def _wrong_key(event: Envelope[Any], key: bytes | None) -> str | None:
    """What is wrong with the Kafka key of an event about an order, or None when it is the
    order's id as the outbox writes it (the exact text: a partition follows the key's bytes)."""
    if event.order_id is None or key == str(event.order_id).encode():
        return None
    came = "no key" if key is None else f"the key {key.decode(errors='replace')!r}"
    return (
        f"{event.type}@{event.version} about order {event.order_id} came with {came}; an "
        "event about an order must be keyed by its order_id, or it can overtake the order's "
        "earlier events"
    )


def record_ids(record: Any) -> dict[str, str]:
    """``event_id`` and ``correlation_id`` from a record's headers (the outbox writes both),
    for log lines about a record that was not, or could not be, parsed."""
    return {
        name: value.decode("latin-1")
        for name, value in getattr(record, "headers", None) or ()
        if name in ("event_id", "correlation_id") and value is not None
    }


def _ids_of(event: Envelope[Any]) -> dict[str, str]:
    return {"event_id": str(event.event_id), "correlation_id": str(event.correlation_id)}


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '(message)'}: {item['msg']}"
        for item in error.errors(include_url=False)
    )


async def raw_batch(message: StreamMessage[Any]) -> Any:
    """A batch's body as FastStream's parser left it (each record's bytes): the kit parses
    the records itself (``EventConsumer.classify``). FastStream's default decoder built a
    message per record and tried JSON on each, a third of a batch's time in the consumer
    benchmark, for a body no handler reads."""
    return message.body


def subscribe(
    broker: KafkaBroker,
    consumers: Sequence[EventConsumer],
    *,
    group_id: str,
    title: str,
    commit_patience: float = COMMIT_PATIENCE,
) -> Any:
    """Subscribe a service's group to every topic its consumers read, as one Kafka consumer.

    One member per service process, not one per topic: each member that joins a group makes
    the others rebalance, and a service reading seven topics would wait through seven of them.
    Batches of up to ``BATCH`` records, applied in partition order in one transaction (see
    :func:`apply_batch`); the batch's offsets are committed after that transaction and the
    dead letters. A crash in between redelivers the batch; the inbox skips what was applied
    already. A commit that waits longer than ``commit_patience`` seconds rebuilds the Kafka
    consumer (see the module's policy). Returns the subscriber (its Kafka consumer gives the
    lag)."""
    by_topic = {consumer.topic_name: consumer for consumer in consumers}
    database = consumers[0].database
    retry = consumers[0].retry
    rebuilds: set[asyncio.Task[None]] = set()

    async def consume(message: KafkaMessage) -> None:
        await apply_batch(database, by_topic, message.raw_message, retry)
        try:
            async with asyncio.timeout(commit_patience):
                await message.ack()
        except TimeoutError:
            log.error(
                "The offset commit of %s has waited %g s: rebuilding the Kafka consumer",
                group_id,
                commit_patience,
            )
            rebuild = asyncio.create_task(_rebuild(subscriber), name=f"{group_id}-rebuild")
            rebuilds.add(rebuild)
            rebuild.add_done_callback(rebuilds.discard)
            # The rebuild stops this consume loop: nothing more is read from the old client.
            await asyncio.Event().wait()

    consume.__name__ = title.replace(":", "_").replace(".", "_").replace("-", "_")
    subscriber = broker.subscriber(
        *by_topic,
        group_id=group_id,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        batch=True,
        max_records=BATCH,
        decoder=raw_batch,
        title=title,
    )
    subscriber(consume)
    return subscriber


async def _rebuild(subscriber: Any) -> None:
    """Replace the subscriber's Kafka consumer with a new one: stop it (a wedged client may
    never finish stopping: it is then left behind, and the group drops it when its session
    times out), then start a new one, trying again until the broker takes it."""
    try:
        async with asyncio.timeout(_REBUILD_STEP):
            await subscriber.stop()
    except TimeoutError:
        log.warning("The wedged Kafka consumer did not stop; starting a new one beside it")
    while True:
        try:
            await subscriber.start()
        except Exception as exc:  # the broker is down still: try again
            log.warning("The new Kafka consumer could not start (%s); trying again", exc)
            await asyncio.sleep(_REBUILD_STEP)
        else:
            log.info("The Kafka consumer was rebuilt")
            return
