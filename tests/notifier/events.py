"""Builders of the events the notifier reads, as other services would publish them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from contracts import (
    SYSTEM_ACTOR,
    Actor,
    Customer,
    IncidentOpened,
    IncidentResolved,
    IncidentSeverity,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceReminderDue,
    Money,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderHoldReminderDue,
    OrderPlaced,
    OrderReactivated,
    OrderRenewed,
    OrderSuspended,
)
from contracts.billing import (
    InvoiceKind,
    InvoiceLine,
    InvoiceOverdueData,
    InvoicePaidData,
    InvoiceReminderDueData,
)
from contracts.inbound import IncidentOpenedData, IncidentResolvedData
from contracts.orders import (
    CancellationMode,
    OrderAcceptedData,
    OrderCancelledData,
    OrderCompletedData,
    OrderHoldReminderDueData,
    OrderPlacedData,
    OrderReactivatedData,
    OrderStatus,
    OrderSuspendedData,
    SuspensionCause,
)
from contracts.renewals import OrderRenewedData

AT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
EUR = Money(amount=Decimal("4.00"), currency="EUR")


def _envelope(order_id: UUID | None) -> dict[str, object]:
    return {
        "occurred_at": AT,
        "producer": "test",
        "correlation_id": uuid4(),
        "actor": SYSTEM_ACTOR,
        "order_id": order_id,
    }


def placed(order_id: UUID, customer: str, *, locale: str = "en", service: str = "r1z7og44"):  # type: ignore[no-untyped-def]
    data = OrderPlacedData(
        service_name=service,
        product="VPS",
        plan="S",
        price=EUR,
        period_months=1,
        customer=Customer(
            id=customer, name=f"Name {customer}", email=f"{customer}@example.com", locale=locale
        ),
    )
    return OrderPlaced(**_envelope(order_id), data=data)


def accepted(order_id: UUID) -> OrderAccepted:
    return OrderAccepted(**_envelope(order_id), data=OrderAcceptedData(invoice_id=uuid4()))


def completed(order_id: UUID, *, paid_until: date, ip: str = "192.0.2.10") -> OrderCompleted:
    data = OrderCompletedData(
        contract="C-1", starts_on=AT.date(), main_ip=ip, paid_until=paid_until
    )
    return OrderCompleted(**_envelope(order_id), data=data)


def suspended(  # type: ignore[no-untyped-def]
    order_id: UUID,
    *,
    violation: bool = False,
    invoice_id: UUID | None = None,
    case_id: str | None = None,
    status: OrderStatus | None = None,
):
    """``order.suspended``; without ``status``, as the orders service published it before
    it told the resulting status."""
    cause = SuspensionCause.VIOLATION if violation else SuspensionCause.NON_PAYMENT
    data = OrderSuspendedData(
        cause=cause,
        invoice_id=None if violation else (invoice_id or uuid4()),
        case_id=case_id,
        reason="spam",
        status=status,
    )
    return OrderSuspended(**_envelope(order_id), data=data)


def reactivated(
    order_id: UUID,
    *,
    violation: bool = False,
    invoice_id: UUID | None = None,
    case_id: str | None = None,
    status: OrderStatus | None = None,
) -> OrderReactivated:
    cause = SuspensionCause.VIOLATION if violation else SuspensionCause.NON_PAYMENT
    data = OrderReactivatedData(cause=cause, invoice_id=invoice_id, case_id=case_id, status=status)
    return OrderReactivated(**_envelope(order_id), data=data)


def hold_reminder_due(order_id: UUID, held_by: Actor | None) -> OrderHoldReminderDue:
    """``order.hold_reminder_due``; without ``held_by``, as published before it was told."""
    data = OrderHoldReminderDueData(
        remind_at=AT - timedelta(minutes=5), reason="waiting for the customer's ID", held_by=held_by
    )
    return OrderHoldReminderDue(**_envelope(order_id), data=data)


def cancelled(order_id: UUID) -> OrderCancelled:
    data = OrderCancelledData(mode=CancellationMode.IMMEDIATE, reason="no longer needed")
    return OrderCancelled(**_envelope(order_id), data=data)


def renewed(order_id: UUID, *, paid_until: date) -> OrderRenewed:
    data = OrderRenewedData(
        renewal_id=None, invoice_id=uuid4(), period_months=1, paid_until=paid_until
    )
    return OrderRenewed(**_envelope(order_id), data=data)


def overdue(order_id: UUID, invoice_id: UUID, customer: str, stage: str = "overdue"):  # type: ignore[no-untyped-def]
    data = InvoiceOverdueData(
        invoice_id=invoice_id,
        number="INV-2025-0042",
        customer_id=customer,
        order_ids=[order_id],
        stage=stage,
        due_on=date(2025, 2, 20),
        days_overdue=9,
    )
    return InvoiceOverdue(**_envelope(order_id), data=data)


def reminder_due(
    order_id: UUID, invoice_id: UUID, customer: str, offset_days: int
) -> InvoiceReminderDue:
    data = InvoiceReminderDueData(
        invoice_id=invoice_id,
        number="INV-2025-0042",
        customer_id=customer,
        order_ids=[order_id],
        total=EUR,
        due_on=date(2025, 3, 4),
        offset_days=offset_days,
    )
    return InvoiceReminderDue(**_envelope(order_id), data=data)


def paid(order_id: UUID, invoice_id: UUID, customer: str) -> InvoicePaid:
    data = InvoicePaidData(
        invoice_id=invoice_id,
        number="INV-2025-0042",
        kind=InvoiceKind.RENEWAL,
        customer_id=customer,
        lines=[InvoiceLine(order_id=order_id, description="VPS", period_months=1, amount=EUR)],
        total=EUR,
        paid_at=AT,
        was_overdue=True,
    )
    return InvoicePaid(**_envelope(order_id), data=data)


def incident(incident_id: str, *, order_id: UUID | None = None, ip: str | None = None):  # type: ignore[no-untyped-def]
    data = IncidentOpenedData(
        incident_id=incident_id,
        main_ip=ip,
        summary="Disk failure on the host",
        severity=IncidentSeverity.MAJOR,
    )
    return IncidentOpened(**_envelope(order_id), data=data)


def incident_resolved(incident_id: str) -> IncidentResolved:
    return IncidentResolved(**_envelope(None), data=IncidentResolvedData(incident_id=incident_id))
