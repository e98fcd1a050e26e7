"""Engine, sessions and the unit of work: one transaction per request or message.

Every connection to a service's database (the engine's, the relay's ``LISTEN``, the
migrations', the tools') is opened by asyncpg from the one URL, so its libpq options mean the
same on every path: ``?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem`` for TLS against a
managed server, which then never falls back to plaintext."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import MetaData, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

from contracts.envelope import Envelope
from services.kit.outbox import OutboxWriter
from services.kit.statements import Reads

__all__ = ["Database", "Reads", "UnitOfWork"]


#: Constraint names that Alembic autogenerate and the migrations agree on.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def asyncpg_dsn(url: str) -> str:
    """The plain libpq URL asyncpg takes, from SQLAlchemy's ``postgresql+asyncpg://`` one."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def connect(url: str, connect_timeout: float = 10.0) -> asyncpg.Connection:
    """A connection to the database at ``url`` (either form), with the URL's TLS options."""
    return await asyncpg.connect(asyncpg_dsn(url), timeout=connect_timeout)


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An engine whose connections come from :func:`connect`. SQLAlchemy's own URL handling
    would hand ``sslmode`` to asyncpg as an argument it does not take; asyncpg reads it from
    its DSN, like ``sslrootcert`` and the other libpq options."""
    return create_async_engine(
        # Only for the engine's repr and dialect; connect() receives the full URL.
        make_url(url).set(query={}),
        async_creator=functools.partial(connect, url),
        **options,
    )


def new_metadata() -> MetaData:
    """The metadata of one service's tables."""
    return MetaData(naming_convention=NAMING_CONVENTION)


@dataclass
class UnitOfWork:
    """One open transaction: the connection for the state change (``session``, a plain
    connection in its transaction: every statement is Core, so no ORM session is set up per
    request) and the outbox it writes to.

    Handlers receive it and never commit; the scope that opened it commits once, so the
    state change, the outgoing events and the inbox row land together or not at all."""

    session: AsyncConnection
    producer: str
    events: list[Envelope[Any]] = field(default_factory=list)
    #: True for a consumer batch applied together (services/kit/consumer.py): its handlers
    #: may queue writes in ``shared`` and do them once, for the batch, ``before_commit``.
    together: bool = False
    shared: dict[Any, Any] = field(default_factory=dict)
    _before_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def publish(self, event: Envelope[Any]) -> None:
        """Queue an event to leave through the outbox when this unit of work commits."""
        self.events.append(event)

    def before_commit(self, write: Callable[[], Awaitable[None]]) -> None:
        """Run ``write`` in this transaction just before it commits."""
        self._before_commit.append(write)

    async def flush(self) -> None:
        """Run the queued writes now (the consumer does, to tell their failure apart)."""
        while self._before_commit:
            await self._before_commit.pop(0)()

    def outbox_headers(self) -> Mapping[UUID, Mapping[str, str]] | None:
        """Headers to add to some events' outbox rows, by event id (a traced unit of work
        adds the trace context; this one adds none)."""
        return None


class Database:
    """The service's database: engine, session factory and units of work."""

    def __init__(self, url: str, *, producer: str, topic: str | None, pool_size: int = 20) -> None:
        self.url = url
        self.producer = producer
        self.engine: AsyncEngine = create_engine(
            url,
            # Enough for the HTTP requests in flight, the consumers, the relay and the jobs: a
            # connection beyond the pool is opened for one request and closed after it.
            pool_size=pool_size,
            max_overflow=pool_size // 2,
            # No ping per checkout (a round trip on every request): a connection lost with a
            # database restart fails once, which invalidates the pool and answers 503.
            pool_recycle=1800,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.outbox = OutboxWriter(topic)
        #: What ``unit_of_work`` opens; tracing swaps in its own class once, at startup.
        self.unit_class: type[UnitOfWork] = UnitOfWork

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Open a transaction; commit it with its outbox rows when the block ends cleanly."""
        async with self.engine.begin() as connection:
            work = self.unit_class(session=connection, producer=self.producer)
            yield work
            await work.flush()
            await self.outbox.write(connection, work.events, work.outbox_headers())

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads only, outside a transaction: no BEGIN and COMMIT round trips
        around its statements, each of which sees what was committed when it ran. A plain
        connection, not a session: reads need no identity map nor unit of work (setting one up
        per request showed in the list's profile)."""
        async with self.read_engine.connect() as connection:
            yield connection

    async def ping(self) -> None:
        """Readiness check: the database answers."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
