"""Who acts, when, and the chain of cause: the one context every handler of every service gets.

A command handler and a reaction are called the same way, ``handler(work, command_or_event,
ctx)``; the context is built the same way from a request (:meth:`Context.of_request`), a
consumed event (:meth:`Context.of_event`) or a job (:meth:`Context.of_job`), and every
outgoing envelope takes its ``occurred_at``, ``actor``, ``correlation_id`` and
``causation_id`` from it (:meth:`Context.envelope`)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.envelope import Actor, ActorKind, Envelope
from services.kit.auth import Principal
from services.kit.db import UnitOfWork


@dataclass(frozen=True, slots=True)
class Context:
    """Who is acting, when, and the request or event the resulting changes belong to."""

    actor: Actor
    now: datetime
    correlation_id: UUID
    causation_id: UUID | None = None

    @classmethod
    def of_request(cls, principal: Principal, now: datetime, correlation_id: UUID) -> Context:
        """The authenticated caller acts, in the request's correlation."""
        return cls(_actor_of(principal), now, correlation_id)

    @classmethod
    def of_event(cls, event: Envelope[Any], now: datetime, actor: Actor | None = None) -> Context:
        """A change caused by a consumed event: ``actor`` (the service itself) acts, or by
        default the system on behalf of the event's producer; caused by that event."""
        return cls(
            actor or _on_behalf_of(event.producer), now, event.correlation_id, event.event_id
        )

    @classmethod
    def of_job(cls, now: datetime, actor: Actor) -> Context:
        """A change the clock causes: a new correlation, no cause."""
        return cls(actor, now, uuid.uuid4())

    def envelope(self, producer: str, order_id: UUID | None) -> dict[str, Any]:
        """The envelope fields of an event this context causes (all but its ``data``)."""
        return {
            "occurred_at": self.now,
            "producer": producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "order_id": order_id,
        }


#: A consumed-event handler: ``handler(work, event, ctx)``, never committing.
Reaction = Callable[[UnitOfWork, Any, Context], Awaitable[None]]


def _actor_of(principal: Principal) -> Actor:
    return Actor(
        kind=ActorKind(principal.role.value), id=principal.id, name=principal.name or principal.id
    )


@functools.lru_cache(maxsize=64)
def _on_behalf_of(producer: str) -> Actor:
    # One per producer: built once, as it is the same for every event of that producer.
    return Actor(kind=ActorKind.SYSTEM, id=producer, name=producer)
