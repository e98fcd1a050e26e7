"""The audit service's one reaction: every event of every topic is journaled, as a system
entry under each order it concerns; ``subscribe`` binds every topic to it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from prometheus_client import CollectorRegistry, Counter

from contracts import TOPICS, Envelope
from services.audit import header as headers
from services.audit.appends import pending_appends
from services.audit.domain import (
    Summary,
    direct_orders,
    lookup_key,
    merge_orders,
    refs_to_remember,
    system_entry,
)
from services.audit.header import Header
from services.audit.journal import Draft, Heads, append, lock_heads, topic_name
from services.audit.repository import JournalRepository
from services.audit.summaries import summarize
from services.kit.context import Context
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime


def subscribe(runtime: Runtime, registry: CollectorRegistry) -> None:
    """Journal every event of every topic (the kit reads them through one subscription)."""
    unattributed = Counter(
        "audit_unattributed_events",
        "Events naming no order the journal knows yet (parked) or none at all (skipped)",
        ["type"],
        registry=registry,
    )
    # This process's chain heads, shared by its batches (see ``Heads``).
    heads = Heads()

    def count(type_: str) -> None:
        unattributed.labels(type_).inc()

    journal = partial(journal_event, heads=heads, unattributed=count)
    prepare = partial(lock_heads, heads=heads)  # one for every topic: once a batch
    for topic in TOPICS.values():
        runtime.consume(topic, dict.fromkeys(topic.models.values(), journal), prepare)


async def journal_event(
    work: UnitOfWork,
    event: Envelope[Any],
    ctx: Context,
    *,
    heads: Heads,
    unattributed: Callable[[str], None],
) -> None:
    """A system entry for ``event`` under every order it concerns, at the end of each order's
    chain.

    An event may name only an invoice, a main IP or an incident. When no journaled event has
    tied that identifier to an order yet (events of different topics arrive in any order), the
    event is parked and counted by ``unattributed``; it is journaled as soon as the event that
    ties the identifier arrives (e.g. ``invoice.issued`` releases its payments). An event that
    names nothing usable (a notification about no order) is only counted."""
    repo = JournalRepository(work.session, pending_appends(work))
    waiting = [event]
    while waiting:
        waiting.extend(await _journal_one(repo, heads, waiting.pop(0), ctx.now, unattributed))


async def _journal_one(
    repo: JournalRepository,
    heads: Heads,
    event: Envelope[Any],
    now: datetime,
    unattributed: Callable[[str], None],
) -> list[Envelope[Any]]:
    key = lookup_key(event)
    looked_up = await repo.orders_for(*key) if key else []
    orders = merge_orders(direct_orders(event), looked_up)
    if not orders:
        unattributed(event.type)
        if key:
            await repo.park(*key, topic_name(event), event.model_dump(mode="json"), now)
        return []
    summary = summarize(event)
    for order_id in orders:
        await append(repo, heads, order_id, _system_draft(order_id, event, summary, now))
    released = await repo.remember_refs(refs_to_remember(event, orders))
    return [TOPICS[topic].adapter.validate_python(payload) for topic, payload in released]


def _system_draft(order_id: UUID, event: Envelope[Any], summary: Summary, now: datetime) -> Draft:
    def header(before: Header) -> Header | None:
        return headers.apply(before, event) if headers.changes_header(event) else None

    return Draft(
        content=lambda seq: system_entry(order_id, seq, event, summary, now),
        header=header,
        actor=event.actor,
    )
