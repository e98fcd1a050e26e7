"""The order header of the journal page, projected from the order events this service journals.

Pure: ``apply(header, event)`` returns the header after one event. Only ``orders.events`` change
it, and those arrive in order (one partition per order), so the projection follows the order's
real history. The header holds names of people (customer, staff who acted); it is a mutable row
beside the journal, so erasing a person edits it without touching any hash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from contracts import (
    Envelope,
    OrderAccepted,
    OrderCancellationRevoked,
    OrderCancellationScheduled,
    OrderCancelled,
    OrderCompleted,
    OrderHeld,
    OrderPlaced,
    OrderReactivated,
    OrderReleased,
    OrderStatus,
    OrderSuspended,
)
from services.audit.domain import timestamp


@dataclass(frozen=True)
class Header:
    """What the journal page shows above the entries. ``details`` are the current status's own:
    hold (reason, held_by, remind_at), cancellation (reason, cancelled_by, cancelled_at, mode),
    suspension (cause, reason, suspended_by, suspended_at of the cause that gives the status,
    and ``suspensions``: every cause that suspends it); a scheduled cancellation adds
    ``cancels_at``."""

    customer_id: str | None = None
    customer_name: str | None = None
    campaign: str | None = None
    service_name: str | None = None
    product: str | None = None
    plan: str | None = None
    placed_at: str | None = None
    status: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    package: str | None = None
    starts_on: str | None = None
    completed_by: dict[str, str] | None = None
    completed_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        # Shallow: the nested values are JSON already and never mutated (``asdict`` deep-copies
        # them, a measurable cost on every journaled order event).
        return dict(vars(self))

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> Header:
        return cls(**(value or {}))


def _by(event: Envelope[Any]) -> dict[str, str]:
    return {"kind": str(event.actor.kind), "id": event.actor.id, "name": event.actor.name}


def _day(value: date) -> str:
    return value.isoformat()


def _placed(header: Header, event: OrderPlaced) -> Header:
    data = event.data
    return replace(
        header,
        customer_id=data.customer.id,
        customer_name=data.customer.name,
        campaign=data.campaign,
        service_name=data.service_name,
        product=data.product,
        plan=data.plan,
        placed_at=timestamp(event.occurred_at),
        status=OrderStatus.NOT_PROCESSED,
        details={},
    )


def _accepted(header: Header, event: OrderAccepted) -> Header:
    return replace(header, status=OrderStatus.IN_PROGRESS, details={})


def _completed(header: Header, event: OrderCompleted) -> Header:
    return replace(
        header,
        status=OrderStatus.PROCESSED,
        details={},
        package=event.data.contract,
        starts_on=_day(event.data.starts_on),
        completed_by=_by(event),
        completed_at=timestamp(event.occurred_at),
    )


def _held(header: Header, event: OrderHeld) -> Header:
    details = {
        "reason": event.data.reason,
        "held_by": _by(event),
        "held_at": timestamp(event.occurred_at),
        "remind_at": timestamp(event.data.remind_at),
        "held_from": str(event.data.held_from),
    }
    return replace(header, status=OrderStatus.ON_HOLD, details=details)


def _released(header: Header, event: OrderReleased) -> Header:
    return replace(header, status=event.data.back_to, details={})


def _cancelled(header: Header, event: OrderCancelled) -> Header:
    details = {
        "reason": event.data.reason,
        "cancelled_by": _by(event),
        "cancelled_at": timestamp(event.occurred_at),
        "mode": str(event.data.mode),
    }
    return replace(header, status=OrderStatus.CANCELLED, details=details)


def _suspended(header: Header, event: OrderSuspended) -> Header:
    """A cause of suspension began. The status is the event's: a second cause may leave the
    order suspended for the first (a violation outranks non-payment)."""
    data = event.data
    began = {
        "cause": str(data.cause),
        "ref": _ref(event),
        "reason": data.reason,
        "suspended_by": _by(event),
        "suspended_at": timestamp(event.occurred_at),
    }
    causes = [c for c in _causes(header) if _key(c) != _key(began)] + [began]
    status = data.status or f"suspended_{data.cause}"
    return replace(header, status=status, details=_suspension(header, status, causes))


def _reactivated(header: Header, event: OrderReactivated) -> Header:
    """A cause of suspension ended; the order is processed only when the event says so, and
    otherwise shows the suspension that remains."""
    data = event.data
    ref = _ref(event)
    causes = [
        c
        for c in _causes(header)
        if not (c["cause"] == str(data.cause) and (ref is None or c["ref"] == ref))
    ]
    status = data.status or OrderStatus.PROCESSED
    if status == OrderStatus.PROCESSED:
        return replace(header, status=status, details=_scheduled(header))
    return replace(header, status=status, details=_suspension(header, status, causes))


def _ref(event: OrderSuspended | OrderReactivated) -> str | None:
    """What tells a cause apart from the order's others: its invoice or its case."""
    ref = event.data.invoice_id or event.data.case_id
    return None if ref is None else str(ref)


def _key(cause: dict[str, Any]) -> tuple[str, str | None]:
    return cause["cause"], cause["ref"]


def _causes(header: Header) -> list[dict[str, Any]]:
    """The causes that suspend the order now, oldest first (none unless it is suspended)."""
    suspended = str(header.status).startswith("suspended_")
    return list(header.details.get("suspensions", [])) if suspended else []


def _suspension(header: Header, status: str, causes: list[dict[str, Any]]) -> dict[str, Any]:
    """Details of a suspended order: those of the newest cause that gives its status, and
    every cause that suspends it (each ends on its own)."""
    cause = status.removeprefix("suspended_")
    shown = next((c for c in reversed(causes) if c["cause"] == cause), None)
    shown = shown or {"cause": cause, "reason": None, "suspended_by": None, "suspended_at": None}
    own = {k: shown[k] for k in ("cause", "reason", "suspended_by", "suspended_at")}
    return {**own, "suspensions": causes, **_scheduled(header)}


def _scheduled(header: Header) -> dict[str, Any]:
    # A scheduled cancellation outlives suspension and reactivation until it is revoked.
    return {k: v for k, v in header.details.items() if k in {"cancels_at", "cancel_reason"}}


def _cancellation_scheduled(header: Header, event: OrderCancellationScheduled) -> Header:
    details = {
        **header.details,
        "cancels_at": timestamp(event.data.effective_at),
        "cancel_reason": event.data.reason,
    }
    return replace(header, details=details)


def _cancellation_revoked(header: Header, event: OrderCancellationRevoked) -> Header:
    details = {k: v for k, v in header.details.items() if k not in {"cancels_at", "cancel_reason"}}
    return replace(header, details=details)


_PROJECTIONS: dict[type[Envelope[Any]], Callable[[Header, Any], Header]] = {
    OrderPlaced: _placed,
    OrderAccepted: _accepted,
    OrderCompleted: _completed,
    OrderHeld: _held,
    OrderReleased: _released,
    OrderCancelled: _cancelled,
    OrderSuspended: _suspended,
    OrderReactivated: _reactivated,
    OrderCancellationScheduled: _cancellation_scheduled,
    OrderCancellationRevoked: _cancellation_revoked,
}


def apply(header: Header, event: Envelope[Any]) -> Header:
    """The header after ``event``; events that change no header field leave it as it is."""
    projection = _PROJECTIONS.get(type(event))
    return header if projection is None else projection(header, event)


def changes_header(event: Envelope[Any]) -> bool:
    """Whether ``apply`` may change the header for this event (saves a write otherwise)."""
    return type(event) in _PROJECTIONS
