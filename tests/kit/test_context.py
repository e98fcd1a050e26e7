"""The one context of every handler, built the same way from a request, an event or a job."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from contracts import SYSTEM_ACTOR, Actor, ActorKind
from services.kit.auth import Principal, Role
from services.kit.context import Context
from tests.audit import events as ev

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_request_acts_as_its_caller_in_its_correlation() -> None:
    correlation = uuid.uuid4()
    ctx = Context.of_request(Principal("s-1", Role.STAFF, "Sam"), NOW, correlation)

    assert ctx == Context(Actor(kind=ActorKind.STAFF, id="s-1", name="Sam"), NOW, correlation)


def test_an_event_causes_what_is_done_for_it() -> None:
    event = ev.placed(uuid.uuid4())

    ctx = Context.of_event(event, NOW)

    assert ctx.actor == Actor(kind=ActorKind.SYSTEM, id=event.producer, name=event.producer)
    assert (ctx.correlation_id, ctx.causation_id, ctx.now) == (
        event.correlation_id,
        event.event_id,
        NOW,
    )
    assert Context.of_event(event, NOW, SYSTEM_ACTOR).actor == SYSTEM_ACTOR


def test_a_job_starts_a_correlation_of_its_own() -> None:
    first, second = Context.of_job(NOW, SYSTEM_ACTOR), Context.of_job(NOW, SYSTEM_ACTOR)

    assert first.correlation_id != second.correlation_id
    assert first.causation_id is None


def test_the_envelope_carries_the_context() -> None:
    ctx = Context.of_job(NOW, SYSTEM_ACTOR)
    order_id = uuid.uuid4()

    assert ctx.envelope("orders", order_id) == {
        "occurred_at": NOW,
        "producer": "orders",
        "correlation_id": ctx.correlation_id,
        "causation_id": None,
        "actor": SYSTEM_ACTOR,
        "order_id": order_id,
    }
