"""Domain events: what happened to an order, as plain values.

The order's methods return them; the handlers map them to contract events at the edge
(``services.orders.outgoing``), adding who acted, when, and the correlation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from contracts.orders import CancellationMode, OrderStatus, SuspensionCause

if TYPE_CHECKING:  # who acted is defined with the order
    from services.orders.domain import By

S = OrderStatus


@dataclass(frozen=True)
class Placed:
    order_id: UUID


@dataclass(frozen=True)
class Accepted:
    order_id: UUID
    invoice_id: UUID


@dataclass(frozen=True)
class Held:
    order_id: UUID
    reason: str
    remind_at: datetime
    held_from: S


@dataclass(frozen=True)
class Released:
    order_id: UUID
    back_to: S


@dataclass(frozen=True)
class HoldReminderDue:
    order_id: UUID
    remind_at: datetime
    reason: str
    held_by: By
    """Who held the order (the one to remind)."""


@dataclass(frozen=True)
class Completed:
    order_id: UUID
    contract: str
    starts_on: date
    main_ip: str
    paid_until: date


@dataclass(frozen=True)
class CancellationScheduled:
    order_id: UUID
    effective_at: datetime
    reason: str | None


@dataclass(frozen=True)
class CancellationRevoked:
    order_id: UUID
    effective_at: datetime


@dataclass(frozen=True)
class Cancelled:
    order_id: UUID
    mode: CancellationMode
    reason: str | None
    invoice_id: UUID | None


@dataclass(frozen=True)
class Suspended:
    order_id: UUID
    cause: SuspensionCause
    reason: str | None
    invoice_id: UUID | None
    case_id: str | None
    status: S
    """The order's status after this cause began or ended (other causes may remain)."""


@dataclass(frozen=True)
class Reactivated:
    order_id: UUID
    cause: SuspensionCause
    reason: str | None
    invoice_id: UUID | None
    case_id: str | None
    status: S
    """The order's status after this cause began or ended (other causes may remain)."""


@dataclass(frozen=True)
class Renewed:
    order_id: UUID
    renewal_id: UUID | None
    invoice_id: UUID
    period_months: int
    paid_until: date


@dataclass(frozen=True)
class CommentChanged:
    order_id: UUID
    comment: str | None


Event = (
    Placed
    | Accepted
    | Held
    | Released
    | HoldReminderDue
    | Completed
    | CancellationScheduled
    | CancellationRevoked
    | Cancelled
    | Suspended
    | Reactivated
    | Renewed
    | CommentChanged
)
