"""Billing's reactions to the events it consumes, each ``reaction(work, event, ctx)``, and
``subscribe`` binding the topics to them: orders' events bill and project the order, payments'
events book money. Billing acts as itself (``BILLING_ACTOR``) for every consumed event."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from contracts import (
    ORDERS,
    PAYMENTS,
    Envelope,
    InvoiceKind,
    OrderCancellationRevoked,
    OrderCancellationScheduled,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderRenewalRequested,
    OrderRenewed,
    PaymentFailed,
    PaymentReceived,
    PaymentSource,
)
from services.billing import order_repository as orders_repo
from services.billing import payment_repository as payments_repo
from services.billing import repository as repo
from services.billing.domain import ZERO, BilledOrder, BilledOrderStatus, DunningPolicy, Line
from services.billing.invoicing import correct, issue_invoice, take_payment, void
from services.billing.outgoing import BILLING_ACTOR
from services.kit import parking
from services.kit.context import Context, Reaction
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime


def subscribe(runtime: Runtime, policy: DunningPolicy) -> None:
    """Bind the orders and payments topics to billing's reactions."""
    runtime.consume(
        ORDERS,
        {
            OrderPlaced: partial(order_placed, policy=policy),
            OrderRenewalRequested: partial(renewal_requested, policy=policy),
            OrderCompleted: order_completed,
            OrderRenewed: order_renewed,
            OrderCancellationScheduled: cancellation_scheduled,
            OrderCancellationRevoked: cancellation_revoked,
            OrderCancelled: partial(order_cancelled, policy=policy),
        },
    )
    runtime.consume(PAYMENTS, {PaymentReceived: payment_received, PaymentFailed: payment_failed})


# --- billing --------------------------------------------------------------------------------


async def order_placed(
    work: UnitOfWork, event: OrderPlaced, ctx: Context, *, policy: DunningPolicy
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
    if not await orders_repo.add_order(work.session, order):
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
        ctx,
        kind=InvoiceKind.INITIAL,
        customer_id=order.customer_id,
        lines=[line],
        policy=policy,
        initial_for=order.order_id,
    )
    await _take_parked(work, order.order_id, ctx, policy)


async def renewal_requested(
    work: UnitOfWork, event: OrderRenewalRequested, ctx: Context, *, policy: DunningPolicy
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
        ctx,
        kind=InvoiceKind.RENEWAL,
        customer_id=data.customer.id,
        lines=lines,
        policy=policy,
        renewal_id=data.renewal_id,
    )


# --- the orders projection --------------------------------------------------------------------


# An order's later events can come before its ``order.placed`` (that one dead-lettered and
# replayed after a fix): each is parked and applied, in order, right after the placement.


async def order_completed(work: UnitOfWork, event: OrderCompleted, ctx: Context) -> None:
    """The paid period starts: renewal invoices are counted from its end."""
    await _project(
        work,
        event,
        ctx,
        orders_repo.OrderChange(BilledOrderStatus.ACTIVE, paid_until=event.data.paid_until),
    )


async def order_renewed(work: UnitOfWork, event: OrderRenewed, ctx: Context) -> None:
    await _project(work, event, ctx, orders_repo.OrderChange(paid_until=event.data.paid_until))


async def cancellation_scheduled(
    work: UnitOfWork, event: OrderCancellationScheduled, ctx: Context
) -> None:
    """An order ending with its period needs no renewal invoice."""
    await _project(work, event, ctx, orders_repo.OrderChange(ends_at_period_end=True))


async def cancellation_revoked(
    work: UnitOfWork, event: OrderCancellationRevoked, ctx: Context
) -> None:
    await _project(work, event, ctx, orders_repo.OrderChange(ends_at_period_end=False))


async def order_cancelled(
    work: UnitOfWork, event: OrderCancelled, ctx: Context, *, policy: DunningPolicy
) -> None:
    """A cancelled order's unpaid invoices will not be paid any more: void them. An invoice
    that also bills other orders (a batch renewal) is corrected instead: void, and its other
    lines billed on a new invoice in its place."""
    if not await _project(work, event, ctx, orders_repo.OrderChange(BilledOrderStatus.CANCELLED)):
        return
    reason = f"order {event.order_id} was cancelled"
    for invoice in await repo.unpaid_invoices_of_order(work.session, event.order_id):
        rest = invoice.lines_without(event.order_id)
        if not rest:
            await void(work, ctx, invoice, reason)
            continue
        # Void first: a renewal request has one invoice that is not void.
        await void(work, ctx, invoice, f"{reason}; corrected invoice issued")
        await correct(work, ctx, invoice, rest, policy)


async def _project(
    work: UnitOfWork, event: Envelope[Any], ctx: Context, change: orders_repo.OrderChange
) -> bool:
    """Update billing's view of the event's order; False after parking the event when the
    order is not known yet."""
    assert event.order_id is not None, "orders events name their order"
    if await orders_repo.update_order(work.session, event.order_id, change):
        return True
    await parking.park(work.session, event, ctx.now)
    return False


#: The projections a parked event is applied with once its order is placed.
_PROJECTIONS: dict[type[Envelope[Any]], Reaction] = {
    OrderCompleted: order_completed,
    OrderRenewed: order_renewed,
    OrderCancellationScheduled: cancellation_scheduled,
    OrderCancellationRevoked: cancellation_revoked,
}


async def _take_parked(
    work: UnitOfWork, order_id: UUID, ctx: Context, policy: DunningPolicy
) -> None:
    for event in await parking.take(work.session, order_id):
        cause = Context.of_event(event, ctx.now, BILLING_ACTOR)
        if isinstance(event, OrderCancelled):
            await order_cancelled(work, event, cause, policy=policy)
        else:
            await _PROJECTIONS[type(event)](work, event, cause)


# --- payments ---------------------------------------------------------------------------------


async def payment_received(work: UnitOfWork, event: PaymentReceived, ctx: Context) -> None:
    """Money from the gateway: applied, or flagged; the same payment id books once."""
    data = event.data
    await take_payment(
        work,
        ctx,
        payment_id=data.payment_id,
        invoice_id=data.invoice_id,
        amount=data.amount,
        source=PaymentSource.GATEWAY,
        received_at=data.received_at,
    )


async def payment_failed(work: UnitOfWork, event: PaymentFailed, ctx: Context) -> None:
    """A failed attempt changes no invoice; it is kept so staff see it beside the invoice."""
    data = event.data
    await payments_repo.add_payment(
        work.session,
        payments_repo.PaymentRecord(
            payment_id=data.payment_id,
            outcome="failed",
            invoice_id=data.invoice_id,
            source=PaymentSource.GATEWAY.value,
            amount=data.amount.amount,
            currency=data.amount.currency,
            applied=ZERO,
            flag_reason=None,
            note=data.error,
            received_at=ctx.now,
        ),
    )
