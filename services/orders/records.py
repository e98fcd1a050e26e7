"""Orders as rows: the columns an order is saved to, and the order a row is read into.

The status-specific details (hold, completion, cancellation, scheduled cancellation) are JSON
columns; the due times the jobs look for are plain columns set from them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from contracts.envelope import ActorKind
from contracts.orders import CancellationMode, OrderStatus
from services.orders.domain import (
    By,
    Cancellation,
    Completion,
    CustomerRef,
    Hold,
    Order,
    ScheduledCancellation,
)


def columns_of(order: Order) -> dict[str, Any]:
    hold, scheduled = order.hold, order.scheduled_cancellation
    return {
        "created_at": order.created_at,
        "service_name": order.service_name,
        "product": order.product,
        "plan": order.plan,
        "price": order.price,
        "currency": order.currency,
        "period_months": order.period_months,
        "customer_id": order.customer.id,
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "customer_locale": order.customer.locale,
        "campaign": order.campaign,
        "comment": order.comment,
        "status": order.status.value,
        "paid_until": order.paid_until,
        "accepted_at": order.accepted_at,
        "main_ip": order.main_ip,
        "hold": hold and _hold_json(hold),
        "completion": order.completion and _completion_json(order.completion),
        "cancellation": order.cancellation and _cancellation_json(order.cancellation),
        "scheduled_cancellation": scheduled and _scheduled_json(scheduled),
        "violation_cases": sorted(order.violation_cases),
        "unpaid_invoices": sorted(order.unpaid_invoices),
        "remind_at": hold.remind_at if hold and not hold.reminded else None,
        "cancel_at": scheduled.effective_at if scheduled else None,
    }


def order_from_row(row: Mapping[Any, Any]) -> Order:
    """The domain order a row of ``orders`` holds (an asyncpg record, or a SQLAlchemy row's
    ``_mapping``)."""
    return Order(
        id=row["id"],
        created_at=row["created_at"],
        service_name=row["service_name"],
        product=row["product"],
        plan=row["plan"],
        price=row["price"],
        currency=row["currency"],
        period_months=row["period_months"],
        customer=CustomerRef(
            row["customer_id"], row["customer_name"], row["customer_email"], row["customer_locale"]
        ),
        campaign=row["campaign"],
        comment=row["comment"],
        status=OrderStatus(row["status"]),
        paid_until=row["paid_until"],
        accepted_at=row["accepted_at"],
        hold=row["hold"] and _hold(row["hold"]),
        completion=row["completion"] and _completion(row["completion"]),
        cancellation=row["cancellation"] and _cancellation(row["cancellation"]),
        scheduled_cancellation=row["scheduled_cancellation"]
        and _scheduled(row["scheduled_cancellation"]),
        violation_cases=frozenset(row["violation_cases"]),
        unpaid_invoices=frozenset(row["unpaid_invoices"]),
        invoice_count=row["invoice_count"],
    )


def _by_json(by: By) -> dict[str, str]:
    return {"kind": by.kind.value, "id": by.id, "name": by.name}


def _by(data: dict[str, str]) -> By:
    return By(ActorKind(data["kind"]), data["id"], data["name"])


def _hold_json(hold: Hold) -> dict[str, Any]:
    return {
        "reason": hold.reason,
        "by": _by_json(hold.by),
        "at": hold.at.isoformat(),
        "remind_at": hold.remind_at.isoformat(),
        "held_from": hold.held_from.value,
        "reminded": hold.reminded,
    }


def _hold(data: dict[str, Any]) -> Hold:
    return Hold(
        reason=data["reason"],
        by=_by(data["by"]),
        at=datetime.fromisoformat(data["at"]),
        remind_at=datetime.fromisoformat(data["remind_at"]),
        held_from=OrderStatus(data["held_from"]),
        reminded=data["reminded"],
    )


def _completion_json(completion: Completion) -> dict[str, Any]:
    return {
        "by": _by_json(completion.by),
        "at": completion.at.isoformat(),
        "contract": completion.contract,
        "starts_on": completion.starts_on.isoformat(),
        "main_ip": completion.main_ip,
    }


def _completion(data: dict[str, Any]) -> Completion:
    return Completion(
        by=_by(data["by"]),
        at=datetime.fromisoformat(data["at"]),
        contract=data["contract"],
        starts_on=date.fromisoformat(data["starts_on"]),
        main_ip=data["main_ip"],
    )


def _cancellation_json(cancellation: Cancellation) -> dict[str, Any]:
    invoice = cancellation.invoice_id
    return {
        "mode": cancellation.mode.value,
        "by": _by_json(cancellation.by),
        "at": cancellation.at.isoformat(),
        "reason": cancellation.reason,
        "invoice_id": str(invoice) if invoice else None,
    }


def _cancellation(data: dict[str, Any]) -> Cancellation:
    invoice = data.get("invoice_id")
    return Cancellation(
        mode=CancellationMode(data["mode"]),
        by=_by(data["by"]),
        at=datetime.fromisoformat(data["at"]),
        reason=data.get("reason"),
        invoice_id=UUID(invoice) if invoice else None,
    )


def _scheduled_json(scheduled: ScheduledCancellation) -> dict[str, Any]:
    return {
        "effective_at": scheduled.effective_at.isoformat(),
        "by": _by_json(scheduled.by),
        "at": scheduled.at.isoformat(),
        "reason": scheduled.reason,
    }


def _scheduled(data: dict[str, Any]) -> ScheduledCancellation:
    return ScheduledCancellation(
        effective_at=datetime.fromisoformat(data["effective_at"]),
        by=_by(data["by"]),
        at=datetime.fromisoformat(data["at"]),
        reason=data.get("reason"),
    )
