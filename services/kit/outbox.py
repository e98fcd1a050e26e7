"""The transactional outbox: events are rows written in the transaction of the state change,
and a relay publishes them to Kafka afterwards.

The relay claims unpublished rows with ``FOR UPDATE SKIP LOCKED`` in id order (never
``id > last_seen``: sequence values commit out of order and such rows would be skipped for
good). A transaction-level advisory lock lets one relay at a time publish a batch, so two
replicas never interleave the events of one order; the other replica takes over at once
when the first stops. A service locks an order's row before writing its events, so one
order's rows get ids in the order they happened. Rows are published in batches whose
acknowledgements are awaited together, then marked published in the same transaction.
A relay killed between publish and mark publishes the batch again: consumers are
idempotent by event id, so the effect is once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
from faststream.kafka import KafkaBroker
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from contracts.envelope import Envelope
from services.kit.logs import bind_ids
from services.kit.statements import Prepared

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "outbox"
#: What wakes the relay: a statement trigger on the outbox NOTIFYs, delivered at commit, so a
#: writing transaction spends no round trip on it. Each service's migrations install it
#: (``kit.migrations.create_outbox_notify_trigger``).
NOTIFY_TRIGGER = (
    "CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS"
    f" $$ BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox"
    " FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()",
)
#: Key of the advisory lock that one relay holds while it publishes a batch.
RELAY_LOCK = 0x0_0B_0C_5E_1A_7E

outbox_metadata = MetaData()

outbox = Table(
    "outbox",
    outbox_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=True),
    Column("event_type", String(100), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
)


#: Every writing transaction runs it: asyncpg runs it itself (``kit.statements``).
_INSERT = Prepared(outbox.insert())
# Built once: SQLAlchemy then finds their compiled form by a cache key it computed already.
#: The relay's batch: the oldest unpublished rows no other relay holds.
_CLAIM = (
    select(
        outbox.c.id,
        outbox.c.event_id,
        outbox.c.topic,
        outbox.c.key,
        outbox.c.payload,
        outbox.c.headers,
    )
    .where(outbox.c.published_at.is_(None))
    .order_by(outbox.c.id)
    .limit(bindparam("batch_size", type_=Integer))
    .with_for_update(skip_locked=True)
)
_PUBLISHED = (
    update(outbox)
    .where(outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=func.now())
)


class OutboxWriter:
    """Writes events as outbox rows inside the caller's transaction; a service publishes on
    its own topic only."""

    def __init__(self, topic: str | None) -> None:
        self.topic = topic

    async def write(
        self,
        session: AsyncConnection,
        events: Sequence[Envelope[Any]],
        extra_headers: Mapping[UUID, Mapping[str, str]] | None = None,
    ) -> None:
        """Write ``events`` as rows; ``extra_headers`` (by event id) go into a row's headers,
        which the relay sends as Kafka headers (the trace context of a traced process)."""
        if not events:
            return
        if self.topic is None:
            raise RuntimeError("this service publishes no events")
        rows: list[dict[str, Any]] = [
            {
                "event_id": event.event_id,
                "topic": self.topic,
                "key": str(event.order_id) if event.order_id else None,
                "event_type": event.type,
                "payload": event.model_dump_json().encode(),
                # Read by consumers' logs before (or without) parsing the payload.
                "headers": {
                    "event_id": str(event.event_id),
                    "correlation_id": str(event.correlation_id),
                },
            }
            for event in events
        ]
        if extra_headers:
            for event, row in zip(events, rows, strict=True):
                row["headers"] = {**row["headers"], **extra_headers.get(event.event_id, {})}
        # The table's trigger wakes the relay at commit (NOTIFY_TRIGGER).
        await _INSERT.insert(session, rows)


class NotPublished(Exception):
    """Kafka did not take an outbox row (the cause says why); the batch stays unpublished."""

    def __init__(self, row: Any, cause: BaseException) -> None:
        super().__init__(f"outbox row {row.id} ({row.topic}) not published: {cause!r}")
        self.event_id = str(row.event_id)
        self.correlation_id = str(row.headers.get("correlation_id", ""))

    def ids(self) -> dict[str, str]:
        return {"event_id": self.event_id, "correlation_id": self.correlation_id}


class OutboxRelay:
    """Publishes committed outbox rows to Kafka through the service's broker (an idempotent
    producer); run one per service process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        broker: KafkaBroker,
        *,
        listen_dsn: str,
        batch_size: int = 500,
        poll_interval: timedelta = timedelta(seconds=2),
        linger: timedelta = timedelta(milliseconds=10),
    ) -> None:
        self.sessions = sessions
        self.broker = broker
        self.listen_dsn = listen_dsn
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        #: How long a woken relay waits for more commits before it claims a batch: under a
        #: steady load a batch is then several rows, not one, and the batch's five round
        #: trips are paid once for all of them (Kafka's ``linger.ms``, for the outbox).
        self.linger = linger
        self._wake = asyncio.Event()
        self.published = 0

    async def publish_batch(self) -> int:
        """Publish one batch of unpublished rows; returns how many were published."""
        async with self.sessions() as session, session.begin():
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK))):
                return 0
            rows = (await session.execute(_CLAIM, {"batch_size": self.batch_size})).all()
            if not rows:
                return 0
            await self._send(rows)
            await session.execute(_PUBLISHED, {"ids": [row.id for row in rows]})
        self.published += len(rows)
        return len(rows)

    async def _send(self, rows: Sequence[Any]) -> None:
        pending = []
        for row in rows:
            headers = {name: str(value) for name, value in row.headers.items()}
            try:
                pending.append(
                    await self.broker.publish(
                        row.payload,
                        topic=row.topic,
                        key=row.key.encode() if row.key else None,
                        headers=headers,
                        # The event's own: FastStream would draw a new one per message.
                        correlation_id=headers.get("correlation_id"),
                        no_confirm=True,
                    )
                )
            except Exception as error:
                raise NotPublished(row, error) from error
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                raise NotPublished(row, outcome) from outcome

    async def run(self) -> None:
        """Publish until cancelled: woken by NOTIFY, polling as the fallback."""
        listener = asyncio.create_task(self._listen())
        try:
            backoff = 0.1
            while True:
                self._wake.clear()
                try:
                    count = await self.publish_batch()
                    backoff = 0.1
                except Exception as error:
                    # A row Kafka refused names its event; a database fault concerns none.
                    ids = error.ids() if isinstance(error, NotPublished) else {}
                    with bind_ids(ids):
                        log.warning("outbox relay failed, retrying in %.1fs: %r", backoff, error)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if count < self.batch_size and await self._sleep_until_woken():
                    await asyncio.sleep(self.linger.total_seconds())
        finally:
            listener.cancel()

    async def _sleep_until_woken(self) -> bool:
        """Until a NOTIFY (True) or the poll interval (False)."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the wake-up completes, and the relay would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.poll_interval.total_seconds()):
                await self._wake.wait()
                return True
        return False

    async def _listen(self) -> None:
        """Hold a LISTEN connection; on loss, reconnect while polling carries on."""
        while True:
            try:
                connection = await asyncpg.connect(self.listen_dsn)
            except (OSError, asyncpg.PostgresError):
                await asyncio.sleep(self.poll_interval.total_seconds())
                continue
            try:
                await self._listen_on(connection)
            finally:
                await connection.close()

    async def _listen_on(self, connection: asyncpg.Connection) -> None:
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _connection: closed.set())
        await connection.add_listener(NOTIFY_CHANNEL, lambda *_args: self._wake.set())
        await closed.wait()
