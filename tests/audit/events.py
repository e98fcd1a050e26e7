"""Events of every topic, as the producers would publish them, for the audit tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from contracts import (
    Actor,
    ActorKind,
    CancellationMode,
    Customer,
    Envelope,
    IncidentOpened,
    IncidentResolved,
    IncidentSeverity,
    InvoiceIssued,
    InvoiceKind,
    InvoiceLine,
    InvoicePaid,
    Money,
    NotificationChannel,
    NotificationDelivered,
    OrderAccepted,
    OrderCancellationScheduled,
    OrderCancelled,
    OrderCompleted,
    OrderHeld,
    OrderPlaced,
    OrderReactivated,
    OrderReleased,
    OrderStatus,
    OrderSuspended,
    PaymentReceived,
    ServiceDelivered,
    SuspensionCause,
    ViolationConfirmed,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
STAFF = Actor(kind=ActorKind.STAFF, id="staff-7", name="Ola Nowak")
SYSTEM = Actor(kind=ActorKind.SYSTEM, id="system", name="System")
EUR4 = Money(amount=Decimal("4.00"), currency="EUR")


def customer(customer_id: str = "cust-1") -> Customer:
    return Customer(id=customer_id, name="Jan Kowalski", email="jan@example.com", locale="pl")


def _envelope(order_id: UUID | None, at: datetime, actor: Actor = SYSTEM) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "occurred_at": at,
        "producer": "orders",
        "correlation_id": uuid4(),
        "actor": actor,
    }


def placed(order_id: UUID, at: datetime = T0, customer_id: str = "cust-1") -> OrderPlaced:
    who = customer(customer_id)
    actor = Actor(kind=ActorKind.CUSTOMER, id=who.id, name=who.name)
    data = {
        "service_name": "r1z7og44",
        "product": "VPS",
        "plan": "M",
        "price": EUR4,
        "period_months": 1,
        "customer": who,
        "campaign": "spring-25",
        "comment": "call me at +48 600 000 000",
    }
    return OrderPlaced(**_envelope(order_id, at, actor), data=data)


def accepted(order_id: UUID, at: datetime) -> OrderAccepted:
    return OrderAccepted(**_envelope(order_id, at), data={"invoice_id": uuid4()})


def held(order_id: UUID, at: datetime, held_from: OrderStatus) -> OrderHeld:
    data = {
        "reason": "waiting for KYC",
        "remind_at": at + timedelta(days=2),
        "held_from": held_from,
    }
    return OrderHeld(**_envelope(order_id, at, STAFF), data=data)


def released(order_id: UUID, at: datetime, back_to: OrderStatus) -> OrderReleased:
    return OrderReleased(**_envelope(order_id, at, STAFF), data={"back_to": back_to})


def completed(order_id: UUID, at: datetime, ip: str = "192.0.2.10") -> OrderCompleted:
    data = {
        "contract": "K-2025-001",
        "starts_on": date(2025, 3, 2),
        "main_ip": ip,
        "paid_until": date(2025, 4, 1),
    }
    return OrderCompleted(**_envelope(order_id, at, STAFF), data=data)


def cancellation_scheduled(order_id: UUID, at: datetime) -> OrderCancellationScheduled:
    data = {"effective_at": datetime(2025, 4, 2, tzinfo=UTC), "reason": "moving"}
    return OrderCancellationScheduled(**_envelope(order_id, at), data=data)


def suspended(order_id: UUID, at: datetime, cause: SuspensionCause) -> OrderSuspended:
    invoice = uuid4() if cause is SuspensionCause.NON_PAYMENT else None
    data = {"cause": cause, "reason": "spam", "invoice_id": invoice}
    return OrderSuspended(**_envelope(order_id, at), data=data)


def reactivated(order_id: UUID, at: datetime, cause: SuspensionCause) -> OrderReactivated:
    return OrderReactivated(**_envelope(order_id, at), data={"cause": cause})


def cancelled(order_id: UUID, at: datetime) -> OrderCancelled:
    data = {"mode": CancellationMode.IMMEDIATE, "reason": "customer asked"}
    return OrderCancelled(**_envelope(order_id, at, STAFF), data=data)


def invoice_issued(orders: list[UUID], at: datetime, invoice_id: UUID) -> InvoiceIssued:
    lines = [
        InvoiceLine(order_id=o, description="VPS M", period_months=1, amount=EUR4) for o in orders
    ]
    total = Money(amount=EUR4.amount * len(orders), currency="EUR")
    data = {
        "invoice_id": invoice_id,
        "number": "INV-1",
        "kind": InvoiceKind.INITIAL,
        "customer_id": "cust-1",
        "lines": lines,
        "total": total,
        "issued_on": at.date(),
        "due_on": at.date() + timedelta(days=14),
    }
    return InvoiceIssued(**_envelope(orders[0], at), data=data)


def invoice_paid(orders: list[UUID], at: datetime, invoice_id: UUID) -> InvoicePaid:
    issued = invoice_issued(orders, at, invoice_id).data.model_dump()
    data = {**{k: issued[k] for k in ("invoice_id", "number", "kind", "customer_id", "lines")}}
    data |= {"total": issued["total"], "paid_at": at}
    return InvoicePaid(**_envelope(orders[0], at), data=data)


def payment_received(invoice_id: UUID, at: datetime) -> PaymentReceived:
    data = {"payment_id": "pay-1", "invoice_id": invoice_id, "amount": EUR4, "received_at": at}
    return PaymentReceived(**_envelope(None, at), data=data)


def notified(order_id: UUID | None, at: datetime) -> NotificationDelivered:
    data = {
        "notification_id": uuid4(),
        "channel": NotificationChannel.EMAIL,
        "kind": "acceptance",
        "recipient": "jan@example.com",
    }
    return NotificationDelivered(**_envelope(order_id, at), data=data)


def delivered(order_id: UUID, at: datetime, ip: str) -> ServiceDelivered:
    data = {"main_ip": ip, "contract": "K-2025-001", "starts_on": date(2025, 3, 2)}
    return ServiceDelivered(**_envelope(order_id, at), data=data)


def violation(order_id: UUID, at: datetime) -> ViolationConfirmed:
    return ViolationConfirmed(**_envelope(order_id, at), data={"case_id": "C-1", "reason": "spam"})


def incident_by_ip(ip: str, at: datetime) -> IncidentOpened:
    data = {
        "incident_id": "INC-9",
        "main_ip": ip,
        "summary": "disk",
        "severity": IncidentSeverity.MAJOR,
    }
    return IncidentOpened(**_envelope(None, at), data=data)


def incident_resolved(at: datetime) -> IncidentResolved:
    return IncidentResolved(**_envelope(None, at), data={"incident_id": "INC-9"})


def lifecycle(order_id: UUID) -> list[Envelope[Any]]:
    """A long plausible history of one order, one event a minute."""
    at = [T0 + timedelta(minutes=n) for n in range(10)]
    return [
        placed(order_id, at[0]),
        accepted(order_id, at[1]),
        held(order_id, at[2], OrderStatus.IN_PROGRESS),
        released(order_id, at[3], OrderStatus.IN_PROGRESS),
        completed(order_id, at[4]),
        cancellation_scheduled(order_id, at[5]),
        suspended(order_id, at[6], SuspensionCause.VIOLATION),
        reactivated(order_id, at[7], SuspensionCause.VIOLATION),
        cancelled(order_id, at[8]),
    ]
