"""Time-driven work tied to an order's own dates: hold reminders and end-of-period cancellations.

Each pass runs under the kit's advisory lock and claims due orders ``FOR UPDATE SKIP LOCKED``;
a handled order no longer matches (its reminder is marked given, its cancellation done), so a
pass repeated after a crash, or by a second replica, changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from contracts.envelope import SYSTEM_ACTOR
from services.kit.context import Context
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime
from services.orders import repository
from services.orders.domain import Order
from services.orders.events import Event
from services.orders.outgoing import publish

HOLD_REMINDERS = "orders.hold_reminders"
PERIOD_END_CANCELLATIONS = "orders.period_end_cancellations"
BATCH = 200


def register(runtime: Runtime, interval: timedelta = timedelta(seconds=30)) -> None:
    """Register the orders service's jobs on the runtime's scheduler."""
    runtime.jobs.add(HOLD_REMINDERS, interval, hold_reminders, batch_size=BATCH)
    runtime.jobs.add(PERIOD_END_CANCELLATIONS, interval, period_end_cancellations, batch_size=BATCH)


async def hold_reminders(work: UnitOfWork, now: datetime) -> int:
    """``order.hold_reminder_due`` for each held order whose reminder time has come."""
    due = await repository.due_reminders(work.session, now, BATCH)
    return await _each(work, now, due, lambda order: order.remind(now))


async def period_end_cancellations(work: UnitOfWork, now: datetime) -> int:
    """Carry out the cancellations scheduled for the end of a paid period that has ended."""
    due = await repository.due_cancellations(work.session, now, BATCH)
    return await _each(work, now, due, lambda order: order.cancel_at_period_end(now))


async def _each(
    work: UnitOfWork, now: datetime, due: list[Order], change: Callable[[Order], list[Event]]
) -> int:
    for order in due:
        ctx = Context.of_job(now, SYSTEM_ACTOR)
        emitted = change(order)
        await repository.save_order(work.session, order)
        publish(work, ctx, order, emitted)
    return len(due)
