"""Events of ``orders.events``: the order lifecycle, published by the orders service.

Who acted and when is in the envelope (``actor``, ``occurred_at``) of every event; the data says
what changed and why. Renewals, which span several orders, are in `contracts.renewals`.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal, Self
from uuid import UUID

from pydantic import Field, IPvAnyAddress, field_validator, model_validator

from contracts.envelope import (
    Actor,
    Contract,
    Customer,
    Envelope,
    Money,
    ShortText,
    Text,
    Topic,
    UtcDatetime,
)
from contracts.renewals import OrderRenewalRequested, OrderRenewed


class OrderStatus(StrEnum):
    """Status of an order (the orders service owns the transitions between them)."""

    NOT_PROCESSED = "not_processed"
    IN_PROGRESS = "in_progress"
    PROCESSED = "processed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    SUSPENDED_VIOLATION = "suspended_violation"
    SUSPENDED_NON_PAYMENT = "suspended_non_payment"


#: The statuses staff may hold an order in, and so the ones a release returns to.
PENDING_STATUSES = frozenset({OrderStatus.NOT_PROCESSED, OrderStatus.IN_PROGRESS})


def _pending(status: OrderStatus) -> OrderStatus:
    if status not in PENDING_STATUSES:
        raise ValueError("only a pending order (not_processed or in_progress) is held or released")
    return status


#: The statuses a suspension leaves an order in, and those a lifted cause may leave it in.
SUSPENDED_STATUSES = frozenset({OrderStatus.SUSPENDED_VIOLATION, OrderStatus.SUSPENDED_NON_PAYMENT})
AFTER_LIFT_STATUSES = SUSPENDED_STATUSES | {OrderStatus.PROCESSED}


def _suspended(status: OrderStatus | None) -> OrderStatus | None:
    if status is not None and status not in SUSPENDED_STATUSES:
        raise ValueError(
            "a suspended order's status is suspended_violation or suspended_non_payment"
        )
    return status


def _after_lift(status: OrderStatus | None) -> OrderStatus | None:
    if status is not None and status not in AFTER_LIFT_STATUSES:
        raise ValueError("after a lifted suspension an order is processed or still suspended")
    return status


class SuspensionCause(StrEnum):
    """Why access to an order is blocked."""

    VIOLATION = "violation"
    NON_PAYMENT = "non_payment"


class CancellationMode(StrEnum):
    """How an order came to be cancelled."""

    IMMEDIATE = "immediate"
    END_OF_PERIOD = "end_of_period"
    NON_PAYMENT_TERMINATION = "non_payment_termination"


class OrderPlacedData(Contract):
    """A customer created an order in the panel; nothing is paid or prepared yet."""

    service_name: ShortText
    """Short generated handle of the service, e.g. ``r1z7og44``."""
    product: ShortText
    plan: ShortText
    """Tariff plan."""
    price: Money
    """Price of one billing period."""
    period_months: int = Field(ge=1, le=120)
    """Length of the billing period."""
    customer: Customer
    campaign: ShortText | None = None
    """The sales campaign the order came from, if any."""
    comment: Text | None = None
    """The customer's comment."""


class OrderPlaced(Envelope[OrderPlacedData]):
    """``order.placed``: a new order exists (status: not processed)."""

    type: Literal["order.placed"] = "order.placed"
    version: Literal[1] = 1
    order_id: UUID


class OrderAcceptedData(Contract):
    """The order's first invoice was paid; the order is accepted for processing."""

    invoice_id: UUID
    """The invoice whose payment accepted the order."""


class OrderAccepted(Envelope[OrderAcceptedData]):
    """``order.accepted``: not processed → in progress."""

    type: Literal["order.accepted"] = "order.accepted"
    version: Literal[1] = 1
    order_id: UUID


class OrderCompletedData(Contract):
    """The service was delivered and is active; the paid period starts."""

    contract: ShortText
    """The package/contract the order produced."""
    starts_on: date
    """Start date of the contract."""
    main_ip: IPvAnyAddress
    """Main IP address of the delivered service."""
    paid_until: date
    """Last day of the paid period."""


class OrderCompleted(Envelope[OrderCompletedData]):
    """``order.completed``: in progress → processed (by provisioning or by staff)."""

    type: Literal["order.completed"] = "order.completed"
    version: Literal[1] = 1
    order_id: UUID


class OrderHeldData(Contract):
    """Staff put a pending order on hold."""

    reason: Text
    remind_at: UtcDatetime
    """When to remind staff about the order's deadline."""
    held_from: OrderStatus
    """The pending status the order was in (and returns to on release)."""

    _held_from_pending = field_validator("held_from")(_pending)


class OrderHeld(Envelope[OrderHeldData]):
    """``order.held``: not processed or in progress → on hold."""

    type: Literal["order.held"] = "order.held"
    version: Literal[1] = 1
    order_id: UUID


class OrderReleasedData(Contract):
    """Staff released a held order."""

    back_to: OrderStatus
    """The pending status the order returns to (the one it was held from)."""

    _back_to_pending = field_validator("back_to")(_pending)


class OrderReleased(Envelope[OrderReleasedData]):
    """``order.released``: on hold → the status it was held from."""

    type: Literal["order.released"] = "order.released"
    version: Literal[1] = 1
    order_id: UUID


class OrderHoldReminderDueData(Contract):
    """The reminder time set when the order was held has come; the order is still on hold."""

    remind_at: UtcDatetime
    reason: Text
    """The reason the order was held."""
    held_by: Actor | None = None
    """The staff member who held the order and set the reminder: the one to remind. Absent
    only from events published before it was added (then the staff queue alone is told)."""


class OrderHoldReminderDue(Envelope[OrderHoldReminderDueData]):
    """``order.hold_reminder_due``: time to look at a held order again (no status change)."""

    type: Literal["order.hold_reminder_due"] = "order.hold_reminder_due"
    version: Literal[1] = 1
    order_id: UUID


class OrderCancellationScheduledData(Contract):
    """An active or suspended order will be cancelled at the end of its paid period."""

    effective_at: UtcDatetime
    """When it takes effect: the end of the paid period, 00:00 UTC of the day after paid-until."""
    reason: Text | None = None


class OrderCancellationScheduled(Envelope[OrderCancellationScheduledData]):
    """``order.cancellation_scheduled``: cancellation at period end (revocable until then)."""

    type: Literal["order.cancellation_scheduled"] = "order.cancellation_scheduled"
    version: Literal[1] = 1
    order_id: UUID


class OrderCancellationRevokedData(Contract):
    """A scheduled cancellation was revoked before it took effect; the order stays as it is."""

    effective_at: UtcDatetime
    """When the revoked cancellation would have taken effect."""


class OrderCancellationRevoked(Envelope[OrderCancellationRevokedData]):
    """``order.cancellation_revoked``: the scheduled cancellation no longer applies."""

    type: Literal["order.cancellation_revoked"] = "order.cancellation_revoked"
    version: Literal[1] = 1
    order_id: UUID


class OrderCancelledData(Contract):
    """The order ended and is no longer available."""

    mode: CancellationMode
    reason: Text | None = None
    invoice_id: UUID | None = None
    """The unpaid invoice, when the mode is non_payment_termination."""


class OrderCancelled(Envelope[OrderCancelledData]):
    """``order.cancelled``: any status → cancelled."""

    type: Literal["order.cancelled"] = "order.cancelled"
    version: Literal[1] = 1
    order_id: UUID


class OrderSuspendedData(Contract):
    """Access to the service is blocked."""

    cause: SuspensionCause
    reason: Text | None = None
    invoice_id: UUID | None = None
    """The overdue invoice (required when the cause is non_payment)."""
    case_id: ShortText | None = None
    """The abuse desk's case, when a confirmed violation caused it."""
    status: OrderStatus | None = None
    """The order's status after this event. An order may be suspended for several causes at
    once, and a violation outranks non-payment, so a second cause can leave it
    ``suspended_violation``; consumers take the status from here rather than from ``cause``.
    Absent only from events published before it was added (then: ``suspended_<cause>``)."""

    _status_suspended = field_validator("status")(_suspended)

    @model_validator(mode="after")
    def _non_payment_names_invoice(self) -> Self:
        if self.cause is SuspensionCause.NON_PAYMENT and self.invoice_id is None:
            raise ValueError("a suspension for non_payment names the overdue invoice_id")
        return self


class OrderSuspended(Envelope[OrderSuspendedData]):
    """``order.suspended``: a cause of suspension begins (processed or suspended → suspended)."""

    type: Literal["order.suspended"] = "order.suspended"
    version: Literal[1] = 1
    order_id: UUID


class OrderReactivatedData(Contract):
    """One cause of a suspension was lifted. The order is active again only when no other
    cause remains: ``status`` says which."""

    cause: SuspensionCause
    """The suspension that was lifted."""
    reason: Text | None = None
    invoice_id: UUID | None = None
    """The invoice whose payment lifted a non-payment suspension."""
    case_id: ShortText | None = None
    """The abuse desk's case that was lifted."""
    status: OrderStatus | None = None
    """The order's status after this event: ``processed`` when nothing suspends it any more,
    else the suspension whose cause remains (another violation case, or an unpaid invoice).
    Absent only from events published before it was added (then: ``processed``)."""

    _status_after_lift = field_validator("status")(_after_lift)


class OrderReactivated(Envelope[OrderReactivatedData]):
    """``order.reactivated``: a cause of suspension ended (suspended → processed, or still
    suspended for the causes that remain; see ``data.status``)."""

    type: Literal["order.reactivated"] = "order.reactivated"
    version: Literal[1] = 1
    order_id: UUID


class OrderCommentChangedData(Contract):
    """The customer edited the order's comment."""

    comment: Text | None
    """The new comment; null when it was cleared."""


class OrderCommentChanged(Envelope[OrderCommentChangedData]):
    """``order.comment_changed``: the comment changed (no status change)."""

    type: Literal["order.comment_changed"] = "order.comment_changed"
    version: Literal[1] = 1
    order_id: UUID


ORDERS = Topic(
    "orders.events",
    OrderPlaced,
    OrderAccepted,
    OrderCompleted,
    OrderHeld,
    OrderReleased,
    OrderHoldReminderDue,
    OrderCancellationScheduled,
    OrderCancellationRevoked,
    OrderCancelled,
    OrderSuspended,
    OrderReactivated,
    OrderRenewalRequested,
    OrderRenewed,
    OrderCommentChanged,
)
