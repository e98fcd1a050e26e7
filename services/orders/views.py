"""Orders as the API shows them: list rows written by the list query, the detail view from an
order."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, DateTime, Text, bindparam, case, func, null

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
from services.orders.tables import orders


def list_item() -> ColumnElement[str]:
    """A list row as :class:`OrderRow` serialises it, built by PostgreSQL as JSON text.

    A page is fifty rows and the list's latency budget is tight: the database writes each row's
    JSON while it reads the row, so the service only joins fifty strings (building the rows in
    Python was half of a request's time). The formats are pydantic's: times in UTC with ``Z``
    and microseconds only when there are some, amounts as the contracts' ``Amount``, dates as
    ISO dates. ``tests/orders/test_list.py`` holds the list to the detail view, field by field.
    ``days_left`` counts from the ``today`` parameter."""
    paid_until = orders.c.paid_until
    scheduled_for = orders.c.scheduled_cancellation["effective_at"].astext.cast(
        DateTime(timezone=True)
    )
    return func.json_build_object(
        "id", orders.c.id,
        "created_at", _utc_text(orders.c.created_at),
        "service_name", orders.c.service_name,
        "product", orders.c.product,
        "plan", orders.c.plan,
        "main_ip", orders.c.main_ip,
        "paid_until", paid_until,
        "days_left", case(
            (paid_until.is_(None), null()),
            else_=func.greatest(paid_until - bindparam("today", type_=Date), 0),
        ),
        "status", orders.c.status,
        "status_label", case(_LABELS, value=orders.c.status),
        "price", func.json_build_object(
            "amount", orders.c.price.cast(Text), "currency", orders.c.currency
        ),
        "period_months", orders.c.period_months,
        "comment", orders.c.comment,
        "campaign", orders.c.campaign,
        "invoice_count", orders.c.invoice_count,
        "cancellation_scheduled_for", _utc_text(scheduled_for),
        "customer", func.json_build_object(
            "id", orders.c.customer_id, "name", orders.c.customer_name
        ),
    ).cast(Text)  # text, not json: the driver would decode json into dicts  # fmt: skip


def _utc_text(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """A ``timestamptz`` as pydantic writes an aware UTC datetime (``…T10:00:00.5Z``: no
    fraction when it is zero, six digits when not)."""
    utc = func.timezone("UTC", moment)
    fraction = case(
        (func.date_trunc("second", moment) == moment, ""), else_=func.to_char(utc, ".US")
    )
    return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS').concat(fraction).concat("Z")


_LABELS = {status.value: label(status) for status in OrderStatus}


def order_detail(order: Order, kind: ActorKind, today: date) -> OrderDetail:
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
        invoice_count=order.invoice_count,
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
