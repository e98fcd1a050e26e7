"""The audit service's consumers: every event type of every topic goes to the journal."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter

from contracts import TOPICS, Envelope
from services.audit.handlers import Heads, journal_event
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime


def subscribe_all(runtime: Runtime, registry: CollectorRegistry) -> None:
    """Journal every event of every topic (the kit reads them through one subscription)."""
    unattributed = Counter(
        "audit_unattributed_events",
        "Events naming no order the journal knows yet (parked) or none at all (skipped)",
        ["type"],
        registry=registry,
    )
    # This process's chain heads, shared by its batches (see ``Heads``).
    heads = Heads()

    async def handle(work: UnitOfWork, event: Envelope[Any]) -> None:
        await journal_event(
            work,
            event,
            now=runtime.clock.now(),
            heads=heads,
            unattributed=lambda type_: unattributed.labels(type_).inc(),
        )

    for topic in TOPICS.values():
        runtime.consume(topic, dict.fromkeys(topic.models.values(), handle))
