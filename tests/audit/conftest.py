"""Fixtures of the audit tests: the service on the real servers, a publisher, the writer role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from faststream.kafka import KafkaBroker

from contracts import TOPICS, Envelope
from services.kit.clock import FrozenClock
from services.kit.kafka import make_broker
from tests.apps import RunningService, bearer, running_service
from tests.audit.events import T0
from tests.helpers import eventually
from tests.stack import Servers

WRITER = "audit_writer"
STAFF = bearer("staff", "staff-7", name="Ola Nowak")
OWNER = bearer("customer", "cust-1", name="Jan Kowalski")
STRANGER = bearer("customer", "cust-2")


@pytest.fixture(scope="session")
async def writer_role(stack: Servers) -> str:
    """The service's restricted login role. Roles are cluster-wide and the database owner
    ``app`` may not create them, so the administrator does, before the migrations grant it
    INSERT and SELECT on the journal (as a deployment's setup would)."""
    admin = await asyncpg.connect(stack.postgres_admin)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", WRITER):
            await admin.execute(f"CREATE ROLE {WRITER} LOGIN PASSWORD '{WRITER}'")
    finally:
        await admin.close()
    return WRITER


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def prefix(unique: str) -> str:
    return f"t{unique}."


@pytest.fixture
async def audit(
    stack: Servers, prefix: str, clock: FrozenClock, writer_role: str
) -> AsyncIterator[RunningService]:
    async with running_service("audit", stack, prefix=prefix, clock=clock) as service:
        yield service


@pytest.fixture
async def kafka(stack: Servers) -> AsyncIterator[KafkaBroker]:
    broker = make_broker(stack.kafka_bootstrap, client_id="audit-test")
    await broker.connect()
    yield broker
    await broker.stop()


def topic_of(event: Envelope[Any]) -> str:
    return next(t.name for t in TOPICS.values() if type(event) in t.models.values())


async def publish(kafka: KafkaBroker, prefix: str, *events: Envelope[Any]) -> None:
    """Publish as the producers do: on the event's topic, keyed by its order."""
    for event in events:
        key = str(event.order_id).encode() if event.order_id else None
        await kafka.publish(
            event.model_dump_json().encode(), topic=prefix + topic_of(event), key=key
        )


async def journal(
    service: RunningService, order_id: UUID, who: dict[str, str] = STAFF, **params: Any
) -> httpx.Response:
    return await service.http.get(f"/orders/{order_id}/journal", headers=who, params=params)


async def entry_count(service: RunningService, order_id: UUID, count: int) -> list[dict[str, Any]]:
    """Wait until the order's journal has ``count`` entries; returns them oldest first."""

    seen: list[Any] = []

    async def check() -> list[dict[str, Any]] | None:
        answer = await journal(service, order_id, order="oldest", limit=200)
        if answer.status_code != 200:
            return None
        entries: list[dict[str, Any]] = answer.json()["entries"]
        seen[:] = [e["type"] for e in entries]
        return entries if len(entries) >= count else None

    try:
        return await eventually(check)
    except AssertionError as error:
        raise AssertionError(f"{count} entries wanted, found {seen}") from error


async def verify(service: RunningService, order_id: UUID) -> dict[str, Any]:
    answer = await service.http.get(f"/orders/{order_id}/journal/verify", headers=STAFF)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result
