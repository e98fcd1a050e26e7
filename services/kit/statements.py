"""Hot statements that asyncpg runs itself, on a unit of work's (or a read's) connection and in
its transaction, with SQLAlchemy only compiling them: see :class:`Prepared`."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

#: What a statement runs on: a unit of work's session, or a read-only route's connection.
Reads = AsyncSession | AsyncConnection
T = TypeVar("T")


async def _in_transaction(reads: Reads) -> tuple[AsyncConnection, asyncpg.Connection]:
    """The SQLAlchemy connection and its asyncpg connection; a session's transaction is begun
    here if no statement began it yet (SQLAlchemy sends BEGIN with the first statement it
    runs itself)."""
    connection = await reads.connection() if isinstance(reads, AsyncSession) else reads
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection
    # SQLAlchemy's adapter of the asyncpg connection owns the transaction that the session
    # commits or rolls back (its private API: tests/kit/test_statements.py holds it to this).
    if adapted._transaction is None and adapted.isolation_level != "autocommit":
        await adapted._start_transaction()
    return connection, adapted.driver_connection


async def _run(reads: Reads, sql: str, call: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """``call`` on the asyncpg connection; its errors raised as SQLAlchemy raises them (a
    ``DBAPIError`` with asyncpg's error as ``orig``; the connection invalidated when it is
    gone), so the kit's problem answers and retries treat both paths alike."""
    connection, found = await _in_transaction(reads)
    try:
        return await call(found)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        gone = found.is_closed()
        if gone:
            await connection.invalidate(error)
        raise DBAPIError.instance(
            sql, None, error, Exception, connection_invalidated=gone, dialect=connection.dialect
        ) from error


class Prepared:
    """A hot Core statement that asyncpg runs itself, on a unit of work's connection and in
    its transaction. SQLAlchemy compiles it once (per set of columns, for an INSERT); the
    values go through the bind processors SQLAlchemy would apply (JSON to text, and so on);
    rows come back as asyncpg records. SQLAlchemy's execution path (the greenlet hop, the
    parameter and result processing) was a third of the CPU of placing an order."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement

    @functools.cache  # noqa: B019 - one per statement object, built at import
    def _compiled(
        self, columns: frozenset[str] | None
    ) -> tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...], dict[str, Any]]:
        keys = sorted(columns) if columns is not None else None
        compiled = cast(SQLCompiler, self.statement.compile(dialect=_DIALECT, column_keys=keys))
        assert compiled.positiontup is not None
        binds = [(name, compiled.binds[name].type) for name in compiled.positiontup]
        processors = tuple(
            (name, type_.dialect_impl(_DIALECT).bind_processor(_DIALECT)) for name, type_ in binds
        )
        return compiled.string, processors, compiled.params

    def _arguments(self, values: Mapping[str, Any], columns: bool) -> tuple[str, list[Any]]:
        """The SQL and its arguments; with ``columns``, ``values`` name the columns an INSERT
        or an UPDATE sets (compiled once per set of names), as with SQLAlchemy's execute."""
        sql, processors, constants = self._compiled(frozenset(values) if columns else None)
        arguments = []
        for name, process in processors:
            value = values[name] if name in values else constants[name]
            arguments.append(value if process is None else process(value))
        return sql, arguments

    async def fetchrow(self, reads: Reads, values: Mapping[str, Any]) -> asyncpg.Record | None:
        sql, arguments = self._arguments(values, columns=False)
        return await _run(reads, sql, lambda found: found.fetchrow(sql, *arguments))

    async def write(self, reads: Reads, values: Mapping[str, Any]) -> None:
        """Run an UPDATE that sets the columns ``values`` name (others are parameters)."""
        sql, arguments = self._arguments(values, columns=True)
        await _run(reads, sql, lambda found: found.execute(sql, *arguments))

    async def insert(self, reads: Reads, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (each with the same columns; the others take their defaults)."""
        batch = [self._arguments(row, columns=True) for row in rows]
        if not batch:
            return
        sql = batch[0][0]
        if len(batch) == 1:
            await _run(reads, sql, lambda found: found.execute(sql, *batch[0][1]))
        else:
            many = [arguments for _, arguments in batch]
            await _run(reads, sql, lambda found: found.executemany(sql, many))


class Copy:
    """Many rows into one table by ``COPY``, on a unit of work's connection and in its
    transaction: for a consumer batch's rows, where a multi-row INSERT's statement text and
    parameters would be built and parsed for each batch. Each value goes through the bind
    processor of its column (JSON to text, and so on); columns a row leaves out are NULL."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = tuple(column.name for column in table.columns)
        self._processors = tuple(
            column.type.dialect_impl(_DIALECT).bind_processor(_DIALECT) for column in table.columns
        )

    async def insert(self, reads: Reads, rows: Iterable[Mapping[str, Any]]) -> None:
        records = [
            tuple(
                value if process is None or value is None else process(value)
                for value, process in zip(
                    (row.get(name) for name in self.columns), self._processors, strict=True
                )
            )
            for row in rows
        ]
        if not records:
            return
        sql = f"COPY {self.table.name} FROM STDIN"
        await _run(
            reads,
            sql,
            lambda found: found.copy_records_to_table(
                self.table.name, records=records, columns=self.columns
            ),
        )


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
