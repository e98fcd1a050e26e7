"""Every SQL statement of the audit service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import (
    Row,
    Select,
    and_,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import records
from services.audit.domain import (
    GENESIS,
    EntryKind,
    Ref,
    RefKind,
    SealedEntry,
    StaffText,
)
from services.audit.header import Header

if TYPE_CHECKING:
    from services.audit.appends import PendingAppends
from services.audit.tables import (
    actors,
    journal_entries,
    journal_orders,
    order_refs,
    parked_events,
    staff_texts,
)


@dataclass(frozen=True)
class OrderJournal:
    """An order's chain head and header, as stored."""

    order_id: UUID
    last_seq: int
    last_hash: str
    header: Header
    #: The header exactly as stored, which an append that replaces it checks it against.
    stored_header: dict[str, Any]


@dataclass(frozen=True)
class EntryFilter:
    """What the journal page asks for."""

    kinds: Sequence[EntryKind] = ()
    types: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    newest_first: bool = True
    after_seq: int | None = None
    #: Customers: system entries and staff entries marked visible only.
    customer_view: bool = False


@dataclass(frozen=True)
class StoredEntry:
    """An entry with its actor's current display name (kept outside the hash)."""

    entry: SealedEntry
    actor_name: str | None


class JournalRepository:
    def __init__(self, session: AsyncConnection, pending: PendingAppends | None = None) -> None:
        self.session = session
        #: A consumer batch's appends, written together at its end (services/audit/appends.py).
        self.pending = pending

    # --- writing ------------------------------------------------------------------------

    async def lock_journal(self, order_id: UUID) -> OrderJournal:
        """The order's head row, created if new, locked until the transaction ends: every
        append to one order goes through this lock, so two replicas never fork a chain."""
        (journal,) = await self.lock_journals([order_id])
        return journal

    async def lock_journals(self, order_ids: Sequence[UUID]) -> list[OrderJournal]:
        """``lock_journal`` for several orders in one statement; ``order_ids`` sorted, the
        order in which every append takes these locks (no two transactions deadlock)."""
        statement = (
            insert(journal_orders)
            .values(
                [
                    {"order_id": order_id, "last_seq": 0, "last_hash": GENESIS, "header": {}}
                    for order_id in order_ids
                ]
            )
            .on_conflict_do_update(
                index_elements=[journal_orders.c.order_id],
                set_={"order_id": journal_orders.c.order_id},
            )
            .returning(journal_orders)
        )
        return [_journal(row) for row in await self.session.execute(statement)]

    async def append_after(
        self, before: OrderJournal, entry: SealedEntry, header: Header | None, actor_name: str
    ) -> bool:
        """Append ``entry`` and move the head to it, in one statement, if the head is still
        ``before`` (sequence number, hash and, when ``header`` replaces it, the header); the
        actor's display name is remembered on the way. False, and nothing written, when the
        head has moved: the caller locks it and tries again.

        The UPDATE of the head row takes its lock, so appends to one order stay serialised
        whether ``before`` was read under ``lock_journal`` or remembered from an earlier
        append (which saves the lock's round trip). In a consumer batch the append is queued
        and checked when the batch is written (``self.pending``)."""
        if self.pending is not None:
            self.pending.add(before, entry, header, actor_name)
            return True
        params = {**records.entry_row(entry), "actor_name": actor_name}
        statement = records.APPEND
        if header is not None:
            statement = records.APPEND_WITH_HEADER
            params |= {
                "old_header": before.stored_header,
                "header": header.as_json(),
                "customer_id": header.customer_id,
            }
        return (await self.session.execute(statement, params)).first() is not None

    async def keep_text(self, order_id: UUID, seq: int, text: StaffText) -> None:
        """Keep a staff entry's free text beside the journal."""
        await self.session.execute(
            insert(staff_texts).values(order_id=order_id, seq=seq, text=text.text, salt=text.salt)
        )

    async def redact_text(self, order_id: UUID, seq: int, now: datetime) -> None:
        """Delete a staff entry's text and its salt for good (the entry keeps its commitment)."""
        await self.session.execute(
            staff_texts.update()
            .where(staff_texts.c.order_id == order_id, staff_texts.c.seq == seq)
            .values(text=None, salt=None, redacted_at=now)
        )

    async def remember_refs(self, refs: Sequence[Ref]) -> list[tuple[str, dict[str, Any]]]:
        """Tie identifiers to their orders and take out the events parked under them, in one
        statement: (topic, payload), oldest first."""
        if not refs:
            return []
        if self.pending is not None and await self.pending.nothing_parked_under(self.session, refs):
            self.pending.tie(refs)  # nothing to release: written with the batch
            return []
        taken = await self.session.execute(
            records.REMEMBER_REFS,
            {
                "kinds": [str(r.kind) for r in refs],
                "values": [r.value for r in refs],
                "order_ids": [r.order_id for r in refs],
            },
        )
        return [(row.topic, row.payload) for row in sorted(taken.all(), key=lambda r: r.id)]

    async def orders_for(self, kind: RefKind, value: str) -> list[UUID]:
        found: Iterable[UUID] = await self.session.scalars(
            select(order_refs.c.order_id).where(
                order_refs.c.kind == str(kind), order_refs.c.value == value
            )
        )
        tied = set() if self.pending is None else self.pending.tied(str(kind), value)
        return [*found, *tied]

    async def park(
        self, kind: RefKind, value: str, topic: str, payload: dict[str, Any], now: datetime
    ) -> None:
        """Keep an event that names only an identifier no journaled event has tied yet."""
        if self.pending is not None:
            self.pending.parking(str(kind), value)
        await self.session.execute(
            insert(parked_events).values(
                kind=str(kind), value=value, topic=topic, payload=payload, parked_at=now
            )
        )

    # --- reading ------------------------------------------------------------------------

    async def journal(self, order_id: UUID, *, hold: bool = False) -> OrderJournal | None:
        """The order's head and header; ``hold`` keeps appends to it waiting until the
        transaction ends (FOR SHARE), so the head and the entries read after it agree."""
        statement = select(journal_orders).where(journal_orders.c.order_id == order_id)
        if hold:
            statement = statement.with_for_update(read=True)
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else _journal(row)

    async def order_ids(self) -> list[UUID]:
        return list(
            await self.session.scalars(
                select(journal_orders.c.order_id).order_by(journal_orders.c.order_id)
            )
        )

    async def chain(self, order_id: UUID) -> list[StoredEntry]:
        """Every entry of an order, oldest first."""
        return await self.entries(order_id, EntryFilter(newest_first=False), limit=None)

    async def every_entry(self) -> list[StoredEntry]:
        """Every entry of every order, by order and sequence number."""
        e = journal_entries.c
        rows = (await self.session.execute(_with_actor_names().order_by(e.order_id, e.seq))).all()
        return [StoredEntry(records.sealed(row), row.actor_name) for row in rows]

    async def entry(self, order_id: UUID, seq: int) -> StoredEntry | None:
        statement = _with_actor_names().where(
            journal_entries.c.order_id == order_id, journal_entries.c.seq == seq
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else StoredEntry(records.sealed(row), row.actor_name)

    async def entries(
        self, order_id: UUID, wanted: EntryFilter, limit: int | None
    ) -> list[StoredEntry]:
        statement = _filtered(
            _with_actor_names().where(journal_entries.c.order_id == order_id), wanted
        )
        if limit is not None:
            statement = statement.limit(limit)
        rows = (await self.session.execute(statement)).all()
        return [StoredEntry(records.sealed(row), row.actor_name) for row in rows]


def _with_actor_names() -> Select[Any]:
    """Entries with their actor's display name and, for staff entries, their text."""
    e = journal_entries.c
    return (
        select(
            journal_entries,
            actors.c.name.label("actor_name"),
            staff_texts.c.text.label("staff_text"),
            staff_texts.c.salt.label("staff_salt"),
            staff_texts.c.redacted_at.label("staff_redacted_at"),
        )
        .outerjoin(actors, and_(actors.c.kind == e.actor_kind, actors.c.id == e.actor_id))
        .outerjoin(
            staff_texts, and_(staff_texts.c.order_id == e.order_id, staff_texts.c.seq == e.seq)
        )
    )


def _filtered(statement: Select[Any], wanted: EntryFilter) -> Select[Any]:
    e = journal_entries.c
    if wanted.kinds:
        statement = statement.where(e.kind.in_([str(k) for k in wanted.kinds]))
    if wanted.types:
        statement = statement.where(e.event_type.in_(list(wanted.types)))
    if wanted.since is not None:
        statement = statement.where(e.occurred_at >= wanted.since)
    if wanted.until is not None:
        statement = statement.where(e.occurred_at < wanted.until)
    if wanted.customer_view:
        statement = statement.where((e.kind == str(EntryKind.SYSTEM)) | e.visible_to_customer)
    if wanted.after_seq is not None:
        past = e.seq < wanted.after_seq if wanted.newest_first else e.seq > wanted.after_seq
        statement = statement.where(past)
    return statement.order_by(e.seq.desc() if wanted.newest_first else e.seq.asc())


def _journal(row: Row[Any]) -> OrderJournal:
    header = Header.from_json(row.header)
    return OrderJournal(row.order_id, row.last_seq, row.last_hash, header, row.header)
