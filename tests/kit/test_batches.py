"""A consumer's batch step, against the real database: once for a batch applied together, with
the events new to the inbox, before their handlers; a failing step leaves the batch to the
per-record path, which applies every event all the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from prometheus_client import CollectorRegistry

from contracts import Envelope
from services.kit.consumer import ConsumerMetrics, EventConsumer, RetryPolicy, apply_batch
from services.kit.db import UnitOfWork
from tests.kit.conftest import ProbeSetup
from tests.kit.probe import Probe, Record, probe


@dataclass
class Seen:
    """What the batch step and the handler were called with, in call order."""

    calls: list[tuple[str, list[int]]] = field(default_factory=list)
    failing: bool = False

    async def prepare(self, work: UnitOfWork, events: Sequence[Envelope[Any]]) -> None:
        self.calls.append(("prepared", [event.data.seq for event in events]))
        if self.failing:
            raise RuntimeError("the batch step has a bug")

    async def handle(self, work: UnitOfWork, event: Probe) -> None:
        self.calls.append(("handled", [event.data.seq]))


def consumer(kit: ProbeSetup, seen: Seen) -> EventConsumer:
    return EventConsumer(
        name="probe",
        topic=kit.topic,
        handlers={Probe: seen.handle},
        database=kit.database,
        broker=None,  # type: ignore[arg-type] # nothing here is dead-lettered
        metrics=ConsumerMetrics(CollectorRegistry()),
        retry=RetryPolicy(first_delay=0.01, attempts_before_dlq=2),
        prepare=seen.prepare,
    )


def records(kit: ProbeSetup, *events: Probe) -> list[Record]:
    return [
        Record(kit.topic.name, event.model_dump_json().encode(), str(event.order_id).encode(), n)
        for n, event in enumerate(events)
    ]


async def test_the_batch_step_runs_once_with_the_new_events_before_their_handlers(
    kit: ProbeSetup,
) -> None:
    seen = Seen()
    order_id = uuid4()
    one, two, three = probe(order_id, 1), probe(order_id, 2), probe(order_id, 3)
    by_topic = {kit.topic.name: consumer(kit, seen)}

    await apply_batch(kit.database, by_topic, records(kit, one, two, one), RetryPolicy())
    await apply_batch(kit.database, by_topic, records(kit, two, three), RetryPolicy())

    assert seen.calls == [
        ("prepared", [1, 2]),  # the duplicate of 1 is not new
        ("handled", [1]),
        ("handled", [2]),
        ("prepared", [3]),  # 2 was applied by the first batch
        ("handled", [3]),
    ]


async def test_a_failing_batch_step_leaves_the_batch_to_the_per_record_path(
    kit: ProbeSetup,
) -> None:
    seen = Seen(failing=True)
    order_id = uuid4()
    one, two = probe(order_id, 1), probe(order_id, 2)
    by_topic = {kit.topic.name: consumer(kit, seen)}

    await apply_batch(kit.database, by_topic, records(kit, one, two), RetryPolicy())
    await apply_batch(kit.database, by_topic, records(kit, one, two), RetryPolicy())

    assert seen.calls == [
        ("prepared", [1, 2]),  # failed: the batch's transaction rolled back
        ("handled", [1]),  # one record at a time, without the step
        ("handled", [2]),
    ], "applied once, and the inbox kept the second batch from applying them again"
