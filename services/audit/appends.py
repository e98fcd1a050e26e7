"""Appends of one consumer batch, chained in memory and written together at its end.

On the consumer's fast path (``work.together``) a batch of events is journaled in one
transaction; each append would otherwise be a round trip of its own. Here the batch's entries
are kept in order, each chained to the one before it in memory (``Heads``), and written at
the end by four statements whatever the batch's size: every touched order's head moved from
where the batch found it to its last entry (only if it is still there), the entries copied
in, the actors' names remembered, the identifiers the batch tied to orders remembered. A head
that moved meanwhile (another replica appended) fails the write: the batch is rolled back and
applied again one record at a time, under each order's lock, as the per-record path always
did.

An identifier tied to its orders (an invoice, a main IP) releases the events parked under it;
when none is parked under it, which the batch learns once from the parked events' keys, it is
only remembered, at the end, and the batch's later lookups find it here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit.domain import Ref, SealedEntry
from services.audit.header import Header
from services.audit.records import entry_row
from services.audit.repository import OrderJournal
from services.audit.tables import journal_entries, order_refs
from services.kit.db import UnitOfWork
from services.kit.statements import Copy


class HeadMoved(Exception):
    """An order's chain head is no longer where the batch found it."""


@dataclass
class _Order:
    """One order's part of the batch: where its chain stood, and where it ends now."""

    first: OrderJournal
    last_seq: int = 0
    last_hash: str = ""
    #: The header after the batch, when an entry of the batch replaced it.
    header: Header | None = None


#: More parked keys than this and the batch does not hold them: each tie releases at once.
PARKED_KEYS_HELD = 1000


@dataclass
class PendingAppends:
    rows: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[UUID, _Order] = field(default_factory=dict)
    actors: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Identifiers tied to orders by this batch, not yet written.
    refs: dict[tuple[str, str], set[UUID]] = field(default_factory=dict)
    #: The keys events are parked under (read once per batch), and those parked by the batch;
    #: None until read, or when there are too many to hold.
    parked: set[tuple[str, str]] | None = None
    _parked_read: bool = False

    def add(
        self, before: OrderJournal, entry: SealedEntry, header: Header | None, actor_name: str
    ) -> None:
        """Queue ``entry``, chained after ``before`` (the order's head in memory)."""
        order = self.orders.setdefault(before.order_id, _Order(before))
        if order.last_seq and before.last_seq != order.last_seq:
            raise HeadMoved(f"order {before.order_id}: an entry was chained out of order")
        order.last_seq, order.last_hash = entry.seq, entry.hash
        order.header = header or order.header
        self.rows.append(entry_row(entry))
        content = entry.content
        self.actors[(content.actor_kind, content.actor_id)] = actor_name

    async def nothing_parked_under(self, session: AsyncConnection, refs: Sequence[Ref]) -> bool:
        """Whether no event is parked under any of ``refs``' identifiers (then tying them
        releases nothing, and they can wait for the batch's end)."""
        if not self._parked_read:
            self._parked_read = True
            keys = (await session.execute(_PARKED_KEYS, {"limit": PARKED_KEYS_HELD + 1})).all()
            self.parked = {(str(kind), str(value)) for kind, value in keys}
            if len(self.parked) > PARKED_KEYS_HELD:
                self.parked = None
        parked = self.parked
        return parked is not None and not any((str(r.kind), r.value) in parked for r in refs)

    def tie(self, refs: Sequence[Ref]) -> None:
        """Remember ``refs`` at the batch's end."""
        for ref in refs:
            self.refs.setdefault((str(ref.kind), ref.value), set()).add(ref.order_id)

    def tied(self, kind: str, value: str) -> set[UUID]:
        """The orders this batch tied the identifier to."""
        return self.refs.get((kind, value), set())

    def parking(self, kind: str, value: str) -> None:
        """An event of this batch was parked under the identifier."""
        if self.parked is not None:
            self.parked.add((kind, value))

    async def write(self, session: AsyncConnection) -> None:
        if self.refs:
            ties = [
                (kind, value, order) for (kind, value), ids in self.refs.items() for order in ids
            ]
            await session.execute(
                _TIE_REFS,
                {
                    "kinds": [kind for kind, _, _ in ties],
                    "values": [value for _, value, _ in ties],
                    "order_ids": [order for _, _, order in ties],
                },
            )
            self.refs.clear()
        if not self.rows:
            return
        orders = list(self.orders.items())
        moved = await session.execute(
            _MOVE_HEADS,
            {
                "order_ids": [order_id for order_id, _ in orders],
                "first_seqs": [o.first.last_seq for _, o in orders],
                "first_hashes": [o.first.last_hash for _, o in orders],
                "old_headers": [o.first.stored_header if o.header else None for _, o in orders],
                "last_seqs": [o.last_seq for _, o in orders],
                "last_hashes": [o.last_hash for _, o in orders],
                "headers": [o.header.as_json() if o.header else None for _, o in orders],
                "customer_ids": [o.header.customer_id if o.header else None for _, o in orders],
            },
        )
        if len(moved.all()) != len(orders):
            raise HeadMoved("a chain head moved while the batch was applied")
        await _ENTRIES.insert(session, self.rows)
        kinds_ids, names = list(self.actors), list(self.actors.values())
        await session.execute(
            _REMEMBER_ACTORS,
            {
                "kinds": [kind for kind, _ in kinds_ids],
                "ids": [id_ for _, id_ in kinds_ids],
                "names": names,
            },
        )
        self.rows.clear()
        self.orders.clear()
        self.actors.clear()


def pending_appends(work: UnitOfWork) -> PendingAppends | None:
    """The batch's pending appends when ``work`` is a fast-path batch, else None (append at
    once)."""
    if not work.together:
        return None
    pending = work.shared.get(PendingAppends)
    if pending is None:
        pending = work.shared[PendingAppends] = PendingAppends()
        work.before_commit(lambda: pending.write(work.session))
    assert isinstance(pending, PendingAppends)
    return pending


_ENTRIES = Copy(journal_entries)

#: None is SQL's NULL here ("no header change"), not JSON's null.
_JSONB_OR_NULL = JSONB(none_as_null=True)

_MOVE_HEADS = text("""
UPDATE journal_orders AS h
SET last_seq = v.last_seq, last_hash = v.last_hash,
    header = COALESCE(v.header, h.header), customer_id = COALESCE(v.customer_id, h.customer_id)
FROM unnest(:order_ids, :first_seqs, :first_hashes, :old_headers, :last_seqs, :last_hashes,
            :headers, :customer_ids)
    AS v(order_id, first_seq, first_hash, old_header, last_seq, last_hash, header, customer_id)
WHERE h.order_id = v.order_id AND h.last_seq = v.first_seq AND h.last_hash = v.first_hash
    AND (v.old_header IS NULL OR h.header = v.old_header)
RETURNING h.order_id
""").bindparams(
    bindparam("order_ids", type_=ARRAY(journal_entries.c.order_id.type)),
    bindparam("first_seqs", type_=ARRAY(journal_entries.c.seq.type)),
    bindparam("first_hashes", type_=ARRAY(journal_entries.c.hash.type)),
    bindparam("old_headers", type_=ARRAY(_JSONB_OR_NULL)),
    bindparam("last_seqs", type_=ARRAY(journal_entries.c.seq.type)),
    bindparam("last_hashes", type_=ARRAY(journal_entries.c.hash.type)),
    bindparam("headers", type_=ARRAY(_JSONB_OR_NULL)),
    bindparam("customer_ids", type_=ARRAY(journal_entries.c.actor_id.type)),
)

#: Only names that are new or changed are written: the usual case takes no row lock.
_REMEMBER_ACTORS = text("""
INSERT INTO actors (kind, id, name)
SELECT v.kind, v.id, v.name FROM unnest(:kinds, :ids, :names) AS v(kind, id, name)
WHERE NOT EXISTS (SELECT FROM actors a WHERE (a.kind, a.id, a.name) = (v.kind, v.id, v.name))
ON CONFLICT (kind, id) DO UPDATE SET name = excluded.name
""").bindparams(
    bindparam("kinds", type_=ARRAY(journal_entries.c.actor_kind.type)),
    bindparam("ids", type_=ARRAY(journal_entries.c.actor_id.type)),
    bindparam("names", type_=ARRAY(journal_entries.c.actor_id.type)),
)

_PARKED_KEYS = text("SELECT DISTINCT kind, value FROM parked_events LIMIT :limit")

_TIE_REFS = text("""
INSERT INTO order_refs (kind, value, order_id)
SELECT * FROM unnest(:kinds, :values, :order_ids)
ON CONFLICT DO NOTHING
""").bindparams(
    bindparam("kinds", type_=ARRAY(order_refs.c.kind.type)),
    bindparam("values", type_=ARRAY(order_refs.c.value.type)),
    bindparam("order_ids", type_=ARRAY(order_refs.c.order_id.type)),
)
