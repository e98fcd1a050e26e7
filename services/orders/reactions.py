"""Use cases driven by other services' events: billing, provisioning and the abuse desk.

The consumer's inbox already drops a redelivered event. Beyond that, events are facts about
other systems and may come late, twice (with new ids) or out of order, so:

- billing's events about an order we do not know are logged and skipped (billing learns its
  orders from us, on the same keys: nothing to create from it);
- provisioning's and the abuse desk's facts are never dropped: one naming an order we do not
  know, or a delivery before the order is accepted (or while it is held), is parked
  (``services.kit.parking``) and applied when the order is in progress, or dead-lettered
  after ``parked_max_age`` when it never is;
- a change the order's state refuses (``OrderConflict``: e.g. a payment for an order already
  accepted) is logged and skipped, leaving the order as it is;
- the invoices billing mentions are remembered per order, so a paid invoice is applied once and
  dunning of an invoice already paid or voided is ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import contracts as c
from contracts.billing import InvoicePaidData
from contracts.envelope import Envelope
from services.kit import parking
from services.kit.context import Context, Reaction
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime
from services.orders import repository
from services.orders.domain import InvoiceState, Order, S
from services.orders.errors import OrderConflict
from services.orders.events import Event
from services.orders.outgoing import by_of, publish

log = logging.getLogger(__name__)

Change = Callable[[Order], list[Event]]


def subscribe(runtime: Runtime) -> None:
    """Bind each consumed event to its reaction (types without one, such as
    ``payment.recorded``, are skipped by the kit's consumer)."""
    runtime.consume(
        c.BILLING,
        {
            c.InvoiceIssued: invoice_issued,
            c.InvoicePaid: invoice_paid,
            c.InvoiceOverdue: invoice_overdue,
            c.InvoiceVoided: invoice_voided,
        },
    )
    runtime.consume(c.PROVISIONING, {c.ServiceDelivered: service_delivered})
    runtime.consume(
        c.ABUSE, {c.ViolationConfirmed: violation_confirmed, c.ViolationLifted: violation_lifted}
    )


async def invoice_issued(work: UnitOfWork, event: c.InvoiceIssued, ctx: Context) -> None:
    """Count the invoice for each of its orders (the list's "Invoices (n)")."""
    for order in await _orders(work, event.data.concerned_order_ids, event):
        await repository.note_invoice(work.session, order.id, event.data.invoice_id)


async def invoice_paid(work: UnitOfWork, event: c.InvoicePaid, ctx: Context) -> None:
    """Lift its non-payment suspension, then accept (initial) or extend (renewal) each order."""
    data = event.data
    periods = {line.order_id: line.period_months for line in data.lines}
    for order in await _orders(work, list(periods), event):
        earlier = await repository.invoice_state(work.session, order.id, data.invoice_id)
        await repository.set_invoice_state(
            work.session, order.id, data.invoice_id, InvoiceState.PAID
        )
        if earlier is InvoiceState.PAID:
            continue  # the same payment told twice
        changes = _payment_changes(order, data, periods[order.id], ctx)
        await _apply(work, ctx, order, event, *changes)


def _payment_changes(
    order: Order, data: InvoicePaidData, months: int, ctx: Context
) -> list[Change]:
    changes: list[Change] = []
    if data.invoice_id in order.unpaid_invoices:
        changes.append(lambda o: o.settle(data.invoice_id))
    if data.kind is c.InvoiceKind.INITIAL:
        changes.append(lambda o: o.accept(data.invoice_id, ctx.now))
    else:
        changes.append(lambda o: o.extend(data.renewal_id, data.invoice_id, months))
    return changes


async def invoice_overdue(work: UnitOfWork, event: c.InvoiceOverdue, ctx: Context) -> None:
    """Dunning: suspend for non-payment, or cancel once the grace period is over."""
    data = event.data
    for order in await _orders(work, data.order_ids, event):
        state = await repository.invoice_state(work.session, order.id, data.invoice_id)
        await repository.note_invoice(work.session, order.id, data.invoice_id)
        if state in (InvoiceState.PAID, InvoiceState.VOIDED):
            log.info("ignoring %s stage %s: invoice already %s", event.type, data.stage, state)
            continue
        if data.stage is c.OverdueStage.SUSPEND:
            await _apply(
                work, ctx, order, event, lambda o: o.suspend_for_non_payment(data.invoice_id)
            )
        elif data.stage is c.OverdueStage.TERMINATE:
            await _apply(work, ctx, order, event, lambda o: o.terminate(ctx.now, data.invoice_id))


async def invoice_voided(work: UnitOfWork, event: c.InvoiceVoided, ctx: Context) -> None:
    """A voided invoice is no longer owed: it no longer suspends its orders."""
    data = event.data
    for order in await _orders(work, data.order_ids, event):
        await repository.set_invoice_state(
            work.session, order.id, data.invoice_id, InvoiceState.VOIDED
        )
        if data.invoice_id in order.unpaid_invoices:
            await _apply(work, ctx, order, event, lambda o: o.settle(data.invoice_id))


async def service_delivered(work: UnitOfWork, event: c.ServiceDelivered, ctx: Context) -> None:
    """Provisioning delivered the server: the order in progress is completed with its IP."""
    data = event.data
    if (order := await _known_or_parked(work, event, ctx.now)) is None:
        return
    if order.completion is None and order.status is not S.IN_PROGRESS:
        # Not accepted yet, or held: it is applied once the order is in progress. A cancelled
        # order never is, so its delivery ends in the DLQ, where staff see it.
        await parking.park(work.session, event, ctx.now)
        return
    change: Change = lambda o: o.complete(  # noqa: E731
        by_of(ctx),
        ctx.now,
        contract=data.contract,
        starts_on=data.starts_on,
        main_ip=str(data.main_ip),
    )
    await _apply(work, ctx, order, event, change)


async def violation_confirmed(work: UnitOfWork, event: c.ViolationConfirmed, ctx: Context) -> None:
    data = event.data
    if order := await _known_or_parked(work, event, ctx.now):
        change: Change = lambda o: o.suspend_for_violation(by_of(ctx), data.case_id, data.reason)  # noqa: E731
        await _apply(work, ctx, order, event, change)


async def violation_lifted(work: UnitOfWork, event: c.ViolationLifted, ctx: Context) -> None:
    data = event.data
    if order := await _known_or_parked(work, event, ctx.now):
        change: Change = lambda o: o.lift_violation(by_of(ctx), data.case_id, data.note)  # noqa: E731
        await _apply(work, ctx, order, event, change)


#: What a parked event is applied with once its order is in progress.
_REPLAYED: dict[type[Envelope[Any]], Reaction] = {
    c.ServiceDelivered: service_delivered,
    c.ViolationConfirmed: violation_confirmed,
    c.ViolationLifted: violation_lifted,
}


async def take_parked(work: UnitOfWork, order: Order, now: datetime) -> Order:
    """Apply, oldest first, what was parked for an order that is now in progress; returns
    the order as it is afterwards."""
    if order.status is not S.IN_PROGRESS:
        return order
    parked = await parking.take(work.session, order.id)
    for event in parked:
        await _REPLAYED[type(event)](work, event, Context.of_event(event, now))
    if not parked:
        return order
    found = await repository.get_order(work.session, order.id, lock=True)
    assert found is not None, "an order is never deleted"
    return found


# --- the common path --------------------------------------------------------------------------


async def _orders(work: UnitOfWork, order_ids: Sequence[UUID], event: Envelope[Any]) -> list[Order]:
    found = await repository.lock_orders(work.session, order_ids)
    missing = set(order_ids) - {order.id for order in found}
    if missing:
        log.info("%s %s names unknown orders %s: skipped", event.type, event.event_id, missing)
    return found


async def _known_or_parked(work: UnitOfWork, event: Envelope[Any], now: datetime) -> Order | None:
    """The event's order, locked; ``None`` after parking the event when we do not know it."""
    assert event.order_id is not None, "provisioning and abuse events name their order"
    order = await repository.get_order(work.session, event.order_id, lock=True)
    if order is None:
        log.info("%s %s names unknown order %s: parked", event.type, event.event_id, event.order_id)
        await parking.park(work.session, event, now)
    return order


async def _apply(
    work: UnitOfWork, ctx: Context, order: Order, event: Envelope[Any], *changes: Change
) -> None:
    """Apply each change the order's state allows; a refused one is logged and skipped. An
    order that this puts in progress takes what was parked for it."""
    before = order.status
    for change in changes:
        try:
            emitted = change(order)
        except OrderConflict as refused:
            log.info("%s %s not applied to %s: %s", event.type, event.event_id, order.id, refused)
            continue
        await repository.save_order(work.session, order)
        publish(work, ctx, order, emitted)
    if before is not S.IN_PROGRESS:
        await take_parked(work, order, ctx.now)
