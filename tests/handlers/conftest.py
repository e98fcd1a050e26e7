"""The handler tier: each reaction fed realistic sequences of events, called the way the kit's
consumer calls it (``reaction(work, event, ctx)``), against the service's real database with
its migrations, without Kafka or HTTP. One database per service and module; each test works in
one transaction that is rolled back at its end, so tests share nothing and run in any order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from contracts import Actor, Envelope
from services.kit.context import Context
from services.kit.db import Database, UnitOfWork
from services.kit.migrations import upgrade
from tests.apps import ROOT
from tests.stack import Servers


@contextlib.asynccontextmanager
async def service_database(
    stack: Servers, service: str, *, as_deployed: bool = False
) -> AsyncIterator[Database]:
    """A fresh, migrated database of ``service``; ``as_deployed``: migrated by its owner and
    used with its runtime login, as the audit service runs."""
    name = f"handlers_{service}_{uuid4().hex[:8]}"
    owner_url = await stack.create_database(name, service=service if as_deployed else None)
    await asyncio.to_thread(upgrade, ROOT / "services" / service, owner_url)
    url = stack.runtime_url(name, service) if as_deployed else owner_url
    database = Database(url, producer=service, topic=None, pool_size=2)
    try:
        yield database
    finally:
        await database.dispose()


@dataclass
class Feed:
    """One test's transaction: feed it events, read back what they did, see what was queued
    for the outbox. Rolled back at the end of the test."""

    work: UnitOfWork
    now: datetime
    actor: Actor | None = None
    published: list[Envelope[Any]] = field(default_factory=list)

    async def __call__(
        self, reaction: Callable[..., Awaitable[None]], *events: Envelope[Any], **deps: Any
    ) -> None:
        """Apply each event in turn, as the consumer would (each in a savepoint)."""
        for event in events:
            async with self.work.session.begin_nested():
                await reaction(self.work, event, Context.of_event(event, self.now, self.actor))
        self.published.extend(self.work.events)
        self.work.events.clear()

    def types(self) -> list[str]:
        return [event.type for event in self.published]


@contextlib.asynccontextmanager
async def feeding(
    database: Database, now: datetime, actor: Actor | None = None
) -> AsyncIterator[Feed]:
    async with database.sessions() as session:
        transaction = await session.begin()
        try:
            yield Feed(UnitOfWork(session=session, producer=database.producer), now, actor)
        finally:
            await transaction.rollback()
