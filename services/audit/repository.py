"""Every SQL statement of the audit service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Select, and_, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Actor
from services.audit.domain import (
    GENESIS,
    EntryContent,
    EntryKind,
    Ref,
    RefKind,
    SealedEntry,
    Summary,
)
from services.audit.header import Header
from services.audit.tables import (
    actors,
    journal_entries,
    journal_orders,
    order_refs,
    parked_events,
)


@dataclass(frozen=True)
class OrderJournal:
    """An order's chain head and header, as stored."""

    order_id: UUID
    last_seq: int
    last_hash: str
    header: Header


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
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- writing ------------------------------------------------------------------------

    async def lock_journal(self, order_id: UUID) -> OrderJournal:
        """The order's head row, created if new, locked until the transaction ends: every
        append to one order goes through this lock, so two replicas never fork a chain."""
        statement = (
            insert(journal_orders)
            .values(order_id=order_id, last_seq=0, last_hash=GENESIS, header={})
            .on_conflict_do_update(
                index_elements=[journal_orders.c.order_id],
                set_={"order_id": journal_orders.c.order_id},
            )
            .returning(journal_orders)
        )
        return _journal((await self.session.execute(statement)).one())

    async def append(self, entry: SealedEntry) -> None:
        await self.session.execute(insert(journal_entries).values(**_entry_row(entry)))

    async def save_head(self, order_id: UUID, seq: int, hash_: str, header: Header | None) -> None:
        values: dict[str, Any] = {"last_seq": seq, "last_hash": hash_}
        if header is not None:
            values |= {"header": header.as_json(), "customer_id": header.customer_id}
        await self.session.execute(
            update(journal_orders).where(journal_orders.c.order_id == order_id).values(**values)
        )

    async def remember_actor(self, actor: Actor) -> None:
        statement = insert(actors).values(kind=str(actor.kind), id=actor.id, name=actor.name)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[actors.c.kind, actors.c.id],
                set_={"name": statement.excluded.name},
                where=actors.c.name != statement.excluded.name,
            )
        )

    async def remember_refs(self, refs: Sequence[Ref]) -> None:
        if refs:
            rows = [{"kind": str(r.kind), "value": r.value, "order_id": r.order_id} for r in refs]
            await self.session.execute(insert(order_refs).values(rows).on_conflict_do_nothing())

    async def orders_for(self, kind: RefKind, value: str) -> list[UUID]:
        found: Iterable[UUID] = await self.session.scalars(
            select(order_refs.c.order_id).where(
                order_refs.c.kind == str(kind), order_refs.c.value == value
            )
        )
        return list(found)

    async def park(
        self, kind: RefKind, value: str, topic: str, payload: dict[str, Any], now: datetime
    ) -> None:
        """Keep an event that names only an identifier no journaled event has tied yet."""
        await self.session.execute(
            insert(parked_events).values(
                kind=str(kind), value=value, topic=topic, payload=payload, parked_at=now
            )
        )

    async def unpark(self, keys: set[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
        """Take out the events parked under these identifiers: (topic, payload), oldest first."""
        if not keys:
            return []
        taken = await self.session.execute(
            delete(parked_events)
            .where(tuple_(parked_events.c.kind, parked_events.c.value).in_(sorted(keys)))
            .returning(parked_events.c.id, parked_events.c.topic, parked_events.c.payload)
        )
        return [(row.topic, row.payload) for row in sorted(taken.all(), key=lambda r: r.id)]

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

    async def entries(
        self, order_id: UUID, wanted: EntryFilter, limit: int | None
    ) -> list[StoredEntry]:
        statement = _filtered(
            _with_actor_names().where(journal_entries.c.order_id == order_id), wanted
        )
        if limit is not None:
            statement = statement.limit(limit)
        rows = (await self.session.execute(statement)).all()
        return [StoredEntry(_sealed(row), row.actor_name) for row in rows]


def _with_actor_names() -> Select[Any]:
    return select(journal_entries, actors.c.name.label("actor_name")).outerjoin(
        actors,
        and_(
            actors.c.kind == journal_entries.c.actor_kind, actors.c.id == journal_entries.c.actor_id
        ),
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
    return OrderJournal(row.order_id, row.last_seq, row.last_hash, Header.from_json(row.header))


def _entry_row(entry: SealedEntry) -> dict[str, Any]:
    c = entry.content
    return {
        "order_id": c.order_id,
        "seq": c.seq,
        "kind": str(c.kind),
        "event_type": c.event_type,
        "event_id": c.event_id,
        "occurred_at": c.occurred_at,
        "recorded_at": c.recorded_at,
        "actor_kind": c.actor_kind,
        "actor_id": c.actor_id,
        "summary": c.summary.as_dict(),
        "details": c.details,
        "visible_to_customer": c.visible_to_customer,
        "corrects": c.corrects,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _sealed(row: Row[Any]) -> SealedEntry:
    content = EntryContent(
        order_id=row.order_id,
        seq=row.seq,
        kind=EntryKind(row.kind),
        event_type=row.event_type,
        event_id=row.event_id,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        summary=Summary(**row.summary),
        details=row.details,
        visible_to_customer=row.visible_to_customer,
        corrects=row.corrects,
    )
    return SealedEntry(content, row.prev_hash, row.hash)
