"""Which failures are worth waiting out: the one answer HTTP (503) and consumers (retry with
backoff, never dead-letter) both use."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import aiokafka.errors
import asyncpg.exceptions
import jwt
import sqlalchemy.exc

UNAVAILABLE_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,  # refused, reset, aborted
    socket.gaierror,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # connection pool exhausted
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    aiokafka.errors.KafkaConnectionError,
    aiokafka.errors.KafkaTimeoutError,
    aiokafka.errors.NoBrokersAvailable,
    aiokafka.errors.KafkaUnavailableError,
    jwt.PyJWKClientConnectionError,  # the identity provider's key set
)
_NETWORK_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database or Kafka cannot be reached right now.

    Follows ``__cause__``/``__context__``, exception groups and SQLAlchemy's wrapped driver
    error, because drivers and pools often re-raise the connection failure as something else.
    Consumers use the same answer to retry instead of dead-lettering.
    """
    return any(_is_unavailable_itself(e) for e in _chain(exc))


def _is_unavailable_itself(exc: BaseException) -> bool:
    if isinstance(exc, UNAVAILABLE_TYPES):
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    # asyncpg raises a bare OSError when every host of a multi-host DSN refused.
    return type(exc) is OSError and exc.errno in _NETWORK_ERRNOS


def _chain(exc: BaseException) -> Iterator[BaseException]:
    pending, seen = [exc], set[int]()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "orig", None)]
        if isinstance(current, BaseExceptionGroup):
            linked.extend(current.exceptions)
        pending.extend(e for e in linked if isinstance(e, BaseException))


#: Conflicts between concurrent transactions: the same work succeeds when simply run again.
_CONFLICT_TYPES: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether running the same work again later can succeed: a dependency is unavailable or
    a concurrent transaction conflicted."""
    return is_unavailable(exc) or any(isinstance(e, _CONFLICT_TYPES) for e in _chain(exc))


def is_unstorable_value(exc: BaseException) -> bool:
    """Whether PostgreSQL refused a value as given: its "data exception" class (SQLSTATE 22),
    e.g. a NUL character in a text or a number beyond its column's range. The input is wrong,
    not the server."""
    return any(isinstance(e, asyncpg.exceptions.DataError) for e in _chain(exc))
