"""Domain events to contract events: the edge where an order's changes become ``orders.events``.

Every envelope carries who acted, when, the correlation id of the request or event that caused
it and, for changes caused by another event, that event's id.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel

import contracts as c
from contracts.envelope import Envelope
from contracts.orders import (
    OrderAcceptedData,
    OrderCancellationRevokedData,
    OrderCancellationScheduledData,
    OrderCancelledData,
    OrderCommentChangedData,
    OrderCompletedData,
    OrderHeldData,
    OrderHoldReminderDueData,
    OrderPlacedData,
    OrderReactivatedData,
    OrderReleasedData,
    OrderSuspendedData,
)
from contracts.renewals import OrderRenewalRequestedData, OrderRenewedData, RenewalItem
from services.kit.context import Context
from services.kit.db import UnitOfWork
from services.orders import events as e
from services.orders.catalogue import RenewalLine
from services.orders.domain import By, Order

PRODUCER = "orders"


def envelope(event: e.Event, order: Order, ctx: Context) -> Envelope[Any]:
    """The contract event for one domain event of ``order``."""
    model, data = _contract(event, order)
    return model.model_validate({**ctx.envelope(PRODUCER, order.id), "data": data})


def publish(work: UnitOfWork, ctx: Context, order: Order, emitted: list[e.Event]) -> None:
    """Queue the contract event of each domain event in the unit of work's outbox."""
    for event in emitted:
        work.publish(envelope(event, order, ctx))


def renewal_requested(
    renewal_id: UUID, lines: list[RenewalLine], customer: c.Customer, ctx: Context
) -> c.OrderRenewalRequested:
    """One event for a whole (batch) renewal: billing makes one invoice of it."""
    items = [
        RenewalItem(
            order_id=line.order_id,
            service_name=line.service_name,
            plan=line.plan,
            period_months=line.period_months,
            price=money(line.price, line.currency),
        )
        for line in lines
    ]
    return c.OrderRenewalRequested(
        **ctx.envelope(PRODUCER, lines[0].order_id),
        data=OrderRenewalRequestedData(renewal_id=renewal_id, customer=customer, items=items),
    )


def by_of(ctx: Context) -> By:
    """The context's actor as the domain knows it."""
    actor = ctx.actor
    return By(actor.kind, actor.id, actor.name)


def _actor(by: By) -> c.Actor:
    return c.Actor(kind=by.kind, id=by.id, name=by.name)


def money(amount: Decimal, currency: str) -> c.Money:
    return c.Money(amount=amount, currency=currency)


def customer_of(order: Order) -> c.Customer:
    ref = order.customer
    # Not validated again: an order's customer is the caller who placed it, whose token's
    # claims kit.auth checked against these very constraints (the email's check was 3 % of
    # placing an order).
    return c.Customer.model_construct(id=ref.id, name=ref.name, email=ref.email, locale=ref.locale)


def _contract(event: e.Event, order: Order) -> tuple[type[Envelope[Any]], BaseModel]:
    data: BaseModel
    match event:
        case e.Placed():
            return c.OrderPlaced, _placed(order)
        case e.Accepted(invoice_id=invoice_id):
            return c.OrderAccepted, OrderAcceptedData(invoice_id=invoice_id)
        case e.Held(_, reason, remind_at, held_from):
            data = OrderHeldData(reason=reason, remind_at=remind_at, held_from=held_from)
            return c.OrderHeld, data
        case e.Released(back_to=back_to):
            return c.OrderReleased, OrderReleasedData(back_to=back_to)
        case e.HoldReminderDue(_, remind_at, reason, held_by):
            return c.OrderHoldReminderDue, OrderHoldReminderDueData(
                remind_at=remind_at, reason=reason, held_by=_actor(held_by)
            )
        case e.Completed(_, contract, starts_on, main_ip, paid_until):
            return c.OrderCompleted, OrderCompletedData(
                contract=contract, starts_on=starts_on, main_ip=main_ip, paid_until=paid_until
            )
        case e.CancellationScheduled(_, effective_at, reason):
            data = OrderCancellationScheduledData(effective_at=effective_at, reason=reason)
            return c.OrderCancellationScheduled, data
        case e.CancellationRevoked(_, effective_at):
            data = OrderCancellationRevokedData(effective_at=effective_at)
            return c.OrderCancellationRevoked, data
        case e.Cancelled(_, mode, reason, invoice_id):
            data = OrderCancelledData(mode=mode, reason=reason, invoice_id=invoice_id)
            return c.OrderCancelled, data
        case e.Suspended(_, cause, reason, invoice_id, case_id, status):
            return c.OrderSuspended, OrderSuspendedData(
                cause=cause, reason=reason, invoice_id=invoice_id, case_id=case_id, status=status
            )
        case e.Reactivated(_, cause, reason, invoice_id, case_id, status):
            return c.OrderReactivated, OrderReactivatedData(
                cause=cause, reason=reason, invoice_id=invoice_id, case_id=case_id, status=status
            )
        case e.Renewed(_, renewal_id, invoice_id, period_months, paid_until):
            return c.OrderRenewed, OrderRenewedData(
                renewal_id=renewal_id,
                invoice_id=invoice_id,
                period_months=period_months,
                paid_until=paid_until,
            )
        case e.CommentChanged(_, comment):
            return c.OrderCommentChanged, OrderCommentChangedData(comment=comment)
    raise TypeError(f"no contract for {event!r}")  # pragma: no cover - the union is exhaustive


def _placed(order: Order) -> OrderPlacedData:
    return OrderPlacedData(
        service_name=order.service_name,
        product=order.product,
        plan=order.plan,
        price=money(order.price, order.currency),
        period_months=order.period_months,
        customer=customer_of(order),
        campaign=order.campaign,
        comment=order.comment,
    )
