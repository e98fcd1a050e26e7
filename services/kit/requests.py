"""What a route takes from the request, as ``Annotated`` dependencies, the same in every service:

- ``Work``: the request's one unit of work. FastAPI opens it before the route and, as its
  scope is the route function's, commits it when the route returns, before the response is
  sent (an error rolls it back and becomes its problem+json). Routes never open one
  themselves.
- ``Reading``: a read-only route's connection, outside a transaction (no BEGIN and COMMIT round
  trips around its queries).
- ``Ctx``: the caller, the clock's time and the request's correlation id, as the one
  :class:`~services.kit.context.Context` every handler takes.
- ``Idempotency``: the ``Idempotency-Key`` of a creating POST, claimed and answered in the
  request's unit of work.

Dependencies only, no middleware: a route pays for what it declares. Every dependency is an
``async def``: FastAPI runs a plain ``def`` one in a worker thread, a thread hop per request
(the hot routes' profile showed it; ``tests/services/test_dependencies.py`` keeps it so)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.kit import idempotency
from services.kit.auth import CurrentPrincipal
from services.kit.clock import Clock
from services.kit.context import Context
from services.kit.db import Database, UnitOfWork


def database(request: Request) -> Database:
    """The service's database (the runtime's, set on the app by ``service_app``)."""
    found: Database = request.app.state.runtime.database
    return found


def clock(request: Request) -> Clock:
    """The service's clock."""
    found: Clock = request.app.state.runtime.clock
    return found


async def _work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with database(request).unit_of_work() as work:
        yield work


async def _reading(request: Request) -> AsyncIterator[AsyncConnection]:
    async with database(request).reading() as connection:
        yield connection


async def _context(request: Request, principal: CurrentPrincipal) -> Context:
    return Context.of_request(principal, clock(request).now(), UUID(request.state.correlation_id))


#: The request's unit of work, committed when the route returns (before the response).
Work = Annotated[UnitOfWork, Depends(_work, scope="function")]

#: A read-only route's connection: each query sees what was committed when it ran.
Reading = Annotated[AsyncConnection, Depends(_reading, scope="function")]
#: The request's context: who calls, now, and the request's correlation.
Ctx = Annotated[Context, Depends(_context)]


@dataclass(frozen=True, slots=True)
class Idempotent:
    """A creating POST's ``Idempotency-Key`` (if sent) with the request's unit of work."""

    work: UnitOfWork
    key: str | None

    async def answer(
        self,
        scope: str,
        asked: Any,
        create: Callable[[], Awaitable[BaseModel]],
        status: int = 201,
    ) -> Any:
        """``create()``'s answer, remembered under the key; the first answer again when the
        key was used for the same request (``asked``, as JSON), 422 when for another.

        ``scope`` separates callers and operations (e.g. ``orders:place:<customer id>``)."""
        if self.key is None:
            return await create()
        session = self.work.session
        earlier = await idempotency.claim(session, scope=scope, key=self.key, request=asked)
        if earlier is not None:
            return JSONResponse(earlier.body, status_code=earlier.status)
        created = await create()
        body = created.model_dump(mode="json")
        await idempotency.remember(session, scope=scope, key=self.key, status=status, body=body)
        return created


async def _idempotent(work: Work, key: idempotency.IdempotencyKey = None) -> Idempotent:
    return Idempotent(work, key or None)


#: The request's idempotency key in its unit of work.
Idempotency = Annotated[Idempotent, Depends(_idempotent)]
