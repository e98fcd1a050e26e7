"""The journal itself, as the reactions, commands and reads use it: the chain heads a process
remembers, appending a draft at the end of an order's chain, reading what a viewer may read,
verifying a chain. Each takes a unit of work and never commits."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts import TOPICS, Actor, Envelope
from services.audit.domain import (
    EntryContent,
    SealedEntry,
    Verification,
    direct_orders,
    seal,
    verify_chain,
)
from services.audit.errors import JournalNotFound
from services.audit.header import Header
from services.audit.repository import (
    EntryFilter,
    JournalRepository,
    OrderJournal,
    StoredEntry,
)
from services.audit.signing import staff_statement, valid
from services.kit.auth import Principal
from services.kit.db import UnitOfWork


class Heads:
    """The chain heads this process appended last, newest kept: the next append to such an
    order skips locking and reading its head. The append checks that the head is still there,
    so a stale one (another replica appended since, or our transaction rolled back) costs one
    retry under the lock, never a fork."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._known: OrderedDict[UUID, OrderJournal] = OrderedDict()

    def get(self, order_id: UUID) -> OrderJournal | None:
        return self._known.get(order_id)

    def remember(self, journal: OrderJournal) -> None:
        self._known[journal.order_id] = journal
        self._known.move_to_end(journal.order_id)
        if len(self._known) > self.limit:
            self._known.popitem(last=False)

    def forget(self, order_id: UUID) -> None:
        self._known.pop(order_id, None)


@dataclass(frozen=True)
class Draft:
    """An entry before it has its place in the chain: its content at a sequence number, the
    header after it (None when it leaves the header alone) and who acted."""

    content: Callable[[int], EntryContent]
    header: Callable[[Header], Header | None]
    actor: Actor
    #: Signs the entry's hash (staff entries); None for system entries.
    sign: Callable[[str], str] | None = None


async def append(
    repo: JournalRepository, heads: Heads, order_id: UUID, draft: Draft
) -> SealedEntry:
    """Chain the draft at the end of the order's journal: after the head this process
    remembers if it is still current, else after the head read under its lock."""
    remembered = heads.get(order_id)
    if remembered is not None and (entry := await _append_after(repo, heads, remembered, draft)):
        return entry
    entry = await _append_after(repo, heads, await repo.lock_journal(order_id), draft)
    if entry is None:
        raise RuntimeError(f"the locked head of order {order_id} moved")
    return entry


async def lock_heads(work: UnitOfWork, events: Sequence[Envelope[Any]], *, heads: Heads) -> None:
    """The chain heads of a batch's orders that this process does not remember, locked and
    read in one statement and remembered: each order's first append in the batch then skips
    its own locking read. (The orders an event names only through an invoice or an address
    are left to the append, which locks them as before.)"""
    wanted = {order_id for event in events for order_id in direct_orders(event)}
    unknown = sorted(order_id for order_id in wanted if heads.get(order_id) is None)
    if unknown:
        for journal in await JournalRepository(work.session).lock_journals(unknown):
            heads.remember(journal)


async def _append_after(
    repo: JournalRepository, heads: Heads, before: OrderJournal, draft: Draft
) -> SealedEntry | None:
    entry = seal(draft.content(before.last_seq + 1), before.last_hash)
    if draft.sign is not None:
        entry = replace(entry, signature=draft.sign(entry.hash))
    header = draft.header(before.header)
    if not await repo.append_after(before, entry, header, draft.actor.name):
        heads.forget(before.order_id)
        return None
    stored = before.stored_header if header is None else header.as_json()
    heads.remember(
        OrderJournal(before.order_id, entry.seq, entry.hash, header or before.header, stored)
    )
    return entry


def topic_name(event: Envelope[Any]) -> str:
    """The topic an event travels on (its type and version are defined on exactly one)."""
    return next(name for name, topic in TOPICS.items() if topic.knows(event.type, event.version))


async def readable_journal(work: UnitOfWork, *, order_id: UUID, viewer: Principal) -> OrderJournal:
    """The order's journal if the viewer may read it: staff any, a customer their own (known
    from ``order.placed``); otherwise ``JournalNotFound`` (a 404, so ids leak nothing)."""
    journal = await JournalRepository(work.session).journal(order_id)
    if journal is None or not (viewer.is_staff or journal.header.customer_id == viewer.id):
        raise JournalNotFound(f"No journal for order {order_id}")
    return journal


@dataclass(frozen=True)
class JournalPage:
    journal: OrderJournal
    entries: list[StoredEntry]
    more: bool


async def read_page(
    work: UnitOfWork, *, order_id: UUID, viewer: Principal, wanted: EntryFilter, limit: int
) -> JournalPage:
    """The header and one keyset page of entries the viewer may read."""
    journal = await readable_journal(work, order_id=order_id, viewer=viewer)
    wanted = _for_viewer(wanted, viewer)
    found = await JournalRepository(work.session).entries(order_id, wanted, limit + 1)
    return JournalPage(journal, found[:limit], len(found) > limit)


async def read_all(
    work: UnitOfWork, *, order_id: UUID, viewer: Principal, wanted: EntryFilter
) -> list[StoredEntry]:
    """Every entry the viewer may read (the export), oldest first."""
    await readable_journal(work, order_id=order_id, viewer=viewer)
    wanted = _for_viewer(wanted, viewer)
    return await JournalRepository(work.session).entries(order_id, wanted, limit=None)


def _for_viewer(wanted: EntryFilter, viewer: Principal) -> EntryFilter:
    return replace(wanted, customer_view=not viewer.is_staff)


async def verify_order(
    work: UnitOfWork, *, order_id: UUID, public_key: Ed25519PublicKey
) -> Verification:
    """Recompute one order's chain against its head, staff entries against their signature."""
    repo = JournalRepository(work.session)
    journal = await repo.journal(order_id, hold=True)
    if journal is None:
        raise JournalNotFound(f"No journal for order {order_id}")
    chain = [stored.entry for stored in await repo.chain(order_id)]
    return verify_chain(
        order_id, chain, journal.last_seq, journal.last_hash, signature_check(public_key)
    )


def signature_check(public_key: Ed25519PublicKey) -> Callable[[SealedEntry], bool]:
    """Whether an entry carries the signature of ``public_key`` over its hash."""
    return lambda entry: valid(public_key, entry.signature, staff_statement(entry.hash))


async def order_ids(work: UnitOfWork) -> list[UUID]:
    """Every order that has a journal."""
    return await JournalRepository(work.session).order_ids()
