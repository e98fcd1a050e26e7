"""The orders service's named errors: each a fact, mapped to HTTP once (``app.DOMAIN_ERRORS``)
and, in a reaction, logged and skipped (``OrderConflict``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus
from services.orders.transitions import STATUS_LABELS, Action


class OrderNotFound(Exception):
    """No such order, or not one of the caller's."""

    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"There is no order {order_id}")
        self.order_id = order_id


class InvalidField(Exception):
    """A request field names something the rules refuse (answered as 422 naming the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class OrderConflict(Exception):
    """The order's current state does not allow what was asked."""


class TransitionNotAllowed(OrderConflict):
    """The transition table does not allow this action in the order's status."""

    def __init__(self, status: OrderStatus, action: Action) -> None:
        super().__init__(f"cannot {action.value} an order that is {STATUS_LABELS[status]}")
        self.status = status
        self.action = action


class CancellationAlreadyScheduled(OrderConflict):
    """Only one cancellation at period end can be pending."""

    def __init__(self, effective_at: datetime) -> None:
        super().__init__(f"a cancellation is already scheduled for {effective_at.isoformat()}")


class NoCancellationScheduled(OrderConflict):
    """There is nothing to revoke or to carry out."""

    def __init__(self) -> None:
        super().__init__("no cancellation is scheduled for this order")


class NotAllowedForRole(Exception):
    """The caller's kind (customer, staff, system) may not cause this action."""

    def __init__(self, kind: ActorKind, action: Action) -> None:
        super().__init__(f"a {kind.value} may not {action.value} an order")
