"""Orders as the API shows them: list rows from the list query, the detail view from an order."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus
from services.orders.checks import allowed_actions
from services.orders.domain import Order
from services.orders.schemas import (
    Actor,
    CancellationOut,
    CompletionOut,
    CustomerOut,
    HoldOut,
    OrderDetail,
    ScheduledOut,
    label,
    menu,
    money,
    suspension_of,
)


def order_row(row: Any, today: date) -> dict[str, Any]:
    """A list row straight from the ``orders`` table, as :class:`OrderRow` serialises it.

    A page is fifty rows and the list's latency budget is tight: a plain dict, serialised by
    pydantic's own JSON encoder (the same formats as the model), costs a fraction of building
    the models. Amounts are pre-formatted as the contracts' ``Amount`` is."""
    scheduled = row.scheduled_cancellation
    paid_until = row.paid_until
    return {
        "id": row.id,
        "created_at": row.created_at,
        "service_name": row.service_name,
        "product": row.product,
        "plan": row.plan,
        "main_ip": row.main_ip,
        "paid_until": paid_until,
        "days_left": None if paid_until is None else max((paid_until - today).days, 0),
        "status": row.status,
        "status_label": _LABELS[row.status],
        "price": {"amount": format(row.price, "f"), "currency": row.currency},
        "period_months": row.period_months,
        "comment": row.comment,
        "campaign": row.campaign,
        "invoice_count": row.invoice_count,
        "cancellation_scheduled_for": scheduled
        and datetime.fromisoformat(scheduled["effective_at"]),
        "customer": {"id": row.customer_id, "name": row.customer_name},
    }


_LABELS = {status.value: label(status) for status in OrderStatus}


def order_detail(order: Order, invoice_count: int, kind: ActorKind, today: date) -> OrderDetail:
    """The "Manage order" view, with the actions ``kind`` may take now."""
    hold, done, ended, scheduled = (
        order.hold,
        order.completion,
        order.cancellation,
        order.scheduled_cancellation,
    )
    return OrderDetail(
        id=order.id,
        created_at=order.created_at,
        service_name=order.service_name,
        product=order.product,
        plan=order.plan,
        main_ip=order.main_ip,
        paid_until=order.paid_until,
        days_left=order.days_left(today),
        status=order.status,
        status_label=label(order.status),
        price=money(order.price, order.currency),
        period_months=order.period_months,
        comment=order.comment,
        campaign=order.campaign,
        invoice_count=invoice_count,
        cancellation_scheduled_for=scheduled and scheduled.effective_at,
        customer=CustomerOut(id=order.customer.id, name=order.customer.name),
        customer_email=order.customer.email,
        accepted_at=order.accepted_at,
        hold=hold
        and HoldOut(
            reason=hold.reason,
            by=Actor.of(hold.by),
            at=hold.at,
            remind_at=hold.remind_at,
            held_from=hold.held_from,
        ),
        completion=done
        and CompletionOut(
            by=Actor.of(done.by),
            at=done.at,
            contract=done.contract,
            starts_on=done.starts_on,
            main_ip=done.main_ip,
        ),
        cancellation=ended
        and CancellationOut(
            mode=ended.mode,
            by=Actor.of(ended.by),
            at=ended.at,
            reason=ended.reason,
            invoice_id=ended.invoice_id,
        ),
        scheduled_cancellation=scheduled
        and ScheduledOut(
            effective_at=scheduled.effective_at,
            by=Actor.of(scheduled.by),
            at=scheduled.at,
            reason=scheduled.reason,
        ),
        suspension=suspension_of(order),
        allowed_actions=menu(allowed_actions(order, kind)),
    )
