"""Billing's use cases: one function per event or command, taking a unit of work (never
committing). Event handlers share one signature, ``(work, event, *, origin, policy)``."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from contracts import (
    Envelope,
    InvoiceKind,
    OrderCancellationRevoked,
    OrderCancellationScheduled,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderRenewalRequested,
    OrderRenewed,
)
from services.billing import events
from services.billing import repository as repo
from services.billing.domain import (
    ZERO,
    BilledOrder,
    DunningPolicy,
    Invoice,
    InvoiceNotFound,
    Line,
    invoice_number,
    new_invoice,
)
from services.billing.events import Origin
from services.kit import parking
from services.kit.db import UnitOfWork

# --- issuing ----------------------------------------------------------------------------------


async def issue_invoice(
    work: UnitOfWork,
    *,
    kind: InvoiceKind,
    customer_id: str,
    lines: list[Line],
    origin: Origin,
    policy: DunningPolicy,
    invoice_id: UUID | None = None,
    renewal_id: UUID | None = None,
    initial_for: UUID | None = None,
    due_on: date | None = None,
    replaces: UUID | None = None,
) -> Invoice:
    """Number, store and announce a new invoice, all in the caller's transaction.

    Due ``due_on``, or after the policy's payment terms when not given."""
    today = origin.now.date()
    sequence = await repo.next_sequence(work.session, today.year)
    invoice = new_invoice(
        invoice_id=invoice_id or uuid4(),
        number=invoice_number(today.year, sequence),
        kind=kind,
        customer_id=customer_id,
        lines=lines,
        issued_on=today,
        due_on=due_on or policy.initial_due_on(today),
        renewal_id=renewal_id,
        replaces=replaces,
    )
    await repo.add_invoice(work.session, invoice, initial_for=initial_for)
    work.publish(events.issued(invoice, origin))
    return invoice


async def order_placed(
    work: UnitOfWork, event: OrderPlaced, *, origin: Origin, policy: DunningPolicy
) -> None:
    """The first invoice of a new order, exactly once however often the event comes."""
    data = event.data
    order = BilledOrder(
        order_id=event.order_id,
        customer_id=data.customer.id,
        service_name=data.service_name,
        plan=data.plan,
        price=data.price.amount,
        currency=data.price.currency,
        period_months=data.period_months,
    )
    if not await repo.add_order(work.session, order):
        return
    line = Line(
        order_id=order.order_id,
        description=f"{data.service_name}: {data.product} ({data.plan})",
        period_months=data.period_months,
        amount=data.price.amount,
        currency=data.price.currency,
    )
    await issue_invoice(
        work,
        kind=InvoiceKind.INITIAL,
        customer_id=order.customer_id,
        lines=[line],
        origin=origin,
        policy=policy,
        initial_for=order.order_id,
    )
    await _take_parked(work, order.order_id, origin, policy)


async def renewal_requested(
    work: UnitOfWork, event: OrderRenewalRequested, *, origin: Origin, policy: DunningPolicy
) -> None:
    """One invoice for the whole request, one line per order."""
    data = event.data
    if await repo.invoice_exists(work.session, renewal_id=data.renewal_id):
        return
    lines = [
        Line(
            order_id=item.order_id,
            description=f"{item.service_name} ({item.plan}): renewal",
            period_months=item.period_months,
            amount=item.price.amount,
            currency=item.price.currency,
        )
        for item in data.items
    ]
    await issue_invoice(
        work,
        kind=InvoiceKind.RENEWAL,
        customer_id=data.customer.id,
        lines=lines,
        origin=origin,
        policy=policy,
        renewal_id=data.renewal_id,
    )


# --- the orders projection --------------------------------------------------------------------


# An order's later events can come before its ``order.placed`` (that one dead-lettered and
# replayed after a fix): each is parked and applied, in order, right after the placement.


async def order_completed(
    work: UnitOfWork, event: OrderCompleted, *, origin: Origin, policy: DunningPolicy
) -> None:
    """The paid period starts: renewal invoices are counted from its end."""
    await _project(work, event, origin, status="active", paid_until=event.data.paid_until)


async def order_renewed(
    work: UnitOfWork, event: OrderRenewed, *, origin: Origin, policy: DunningPolicy
) -> None:
    await _project(work, event, origin, paid_until=event.data.paid_until)


async def cancellation_scheduled(
    work: UnitOfWork, event: OrderCancellationScheduled, *, origin: Origin, policy: DunningPolicy
) -> None:
    """An order ending with its period needs no renewal invoice."""
    await _project(work, event, origin, ends_at_period_end=True)


async def cancellation_revoked(
    work: UnitOfWork, event: OrderCancellationRevoked, *, origin: Origin, policy: DunningPolicy
) -> None:
    await _project(work, event, origin, ends_at_period_end=False)


async def order_cancelled(
    work: UnitOfWork, event: OrderCancelled, *, origin: Origin, policy: DunningPolicy
) -> None:
    """A cancelled order's unpaid invoices will not be paid any more: void them. An invoice
    that also bills other orders (a batch renewal) is corrected instead: void, and its other
    lines billed on a new invoice in its place."""
    if not await _project(work, event, origin, status="cancelled"):
        return
    reason = f"order {event.order_id} was cancelled"
    for invoice in await repo.unpaid_invoices_of_order(work.session, event.order_id):
        rest = invoice.lines_without(event.order_id)
        if not rest:
            await void(work, invoice, reason=reason, origin=origin)
            continue
        # Void first: a renewal request has one invoice that is not void.
        await void(work, invoice, reason=f"{reason}; corrected invoice issued", origin=origin)
        await _correct(work, invoice, rest, origin=origin, policy=policy)


async def _correct(
    work: UnitOfWork, invoice: Invoice, lines: list[Line], *, origin: Origin, policy: DunningPolicy
) -> None:
    """Bill the lines left of a void invoice on a new one in its place (a new number of the
    year's gapless sequence): the same kind, renewal request and due date (not before today),
    and the money already paid on it."""
    corrected = await issue_invoice(
        work,
        kind=invoice.kind,
        customer_id=invoice.customer_id,
        lines=lines,
        origin=origin,
        policy=policy,
        renewal_id=invoice.renewal_id,
        due_on=invoice.due_on,
        replaces=invoice.id,
    )
    if invoice.paid_amount == ZERO:
        return
    outcome = corrected.take_payment(invoice.paid_amount, invoice.currency, origin.now)
    await repo.save_invoice(work.session, corrected)
    if outcome.settled:
        work.publish(events.paid(corrected, None, origin))


async def _project(work: UnitOfWork, event: Envelope[Any], origin: Origin, **values: Any) -> bool:
    """Update billing's view of the event's order; False after parking the event when the
    order is not known yet."""
    assert event.order_id is not None, "orders events name their order"
    if await repo.update_order(work.session, event.order_id, **values):
        return True
    await parking.park(work.session, event, origin.now)
    return False


async def _take_parked(
    work: UnitOfWork, order_id: UUID, origin: Origin, policy: DunningPolicy
) -> None:
    replayed: dict[type[Envelope[Any]], Any] = {
        OrderCompleted: order_completed,
        OrderRenewed: order_renewed,
        OrderCancellationScheduled: cancellation_scheduled,
        OrderCancellationRevoked: cancellation_revoked,
        OrderCancelled: order_cancelled,
    }
    for event in await parking.take(work.session, order_id):
        cause = Origin.of_event(event, origin.now)
        await replayed[type(event)](work, event, origin=cause, policy=policy)


async def void(work: UnitOfWork, invoice: Invoice, *, reason: str, origin: Origin) -> None:
    invoice.void(reason)
    await repo.save_invoice(work.session, invoice)
    work.publish(events.voided(invoice, reason, origin))


async def void_by_staff(
    work: UnitOfWork, *, invoice_id: UUID, reason: str, origin: Origin
) -> Invoice:
    invoice = await repo.get_invoice(work.session, invoice_id, for_update=True)
    if invoice is None:
        raise InvoiceNotFound(invoice_id)
    await void(work, invoice, reason=reason, origin=origin)
    return invoice
