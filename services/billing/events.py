"""Billing's domain facts as the contracts of ``billing.events``: the mapping at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from contracts import (
    Actor,
    ActorKind,
    DunningExemptionChanged,
    Envelope,
    InvoiceIssued,
    InvoiceLine,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceReminderDue,
    InvoiceVoided,
    Money,
    OverdueStage,
    PaymentRecorded,
    PaymentSource,
)
from contracts.billing import (
    DunningExemptionChangedData,
    InvoiceIssuedData,
    InvoiceOverdueData,
    InvoicePaidData,
    InvoiceReminderDueData,
    InvoiceVoidedData,
    PaymentRecordedData,
)
from services.billing.domain import Invoice, PaymentOutcome, days_overdue
from services.kit.auth import Principal

PRODUCER = "billing"
#: Billing acting on its own: a job, or a reaction to another service's event.
BILLING_ACTOR = Actor(kind=ActorKind.SERVICE, id=PRODUCER, name="Billing")


@dataclass(frozen=True)
class Origin:
    """Why and when billing acts: who, at what time, and the event or request behind it."""

    now: datetime
    actor: Actor
    correlation_id: UUID
    causation_id: UUID | None = None

    @classmethod
    def of_event(cls, event: Envelope[Any], now: datetime) -> Origin:
        return cls(now, BILLING_ACTOR, event.correlation_id, event.event_id)

    @classmethod
    def of_job(cls, now: datetime) -> Origin:
        return cls(now, BILLING_ACTOR, uuid4())

    @classmethod
    def of_request(cls, principal: Principal, now: datetime, correlation_id: str) -> Origin:
        kind = ActorKind.STAFF if principal.is_staff else ActorKind(principal.role.value)
        actor = Actor(kind=kind, id=principal.id, name=principal.name or principal.id)
        return cls(now, actor, UUID(correlation_id))

    def envelope(self, order_id: UUID | None) -> dict[str, Any]:
        return {
            "occurred_at": self.now,
            "producer": PRODUCER,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor,
            "order_id": order_id,
        }


def money(amount: Any, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def _whole_invoice(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "kind": invoice.kind,
        "customer_id": invoice.customer_id,
        "lines": [
            InvoiceLine(
                order_id=line.order_id,
                description=line.description,
                period_months=line.period_months,
                amount=money(line.amount, line.currency),
            )
            for line in invoice.lines
        ],
        "total": money(invoice.total, invoice.currency),
        "renewal_id": invoice.renewal_id,
    }


def _invoice_orders(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "order_ids": invoice.order_ids,
    }


def issued(invoice: Invoice, origin: Origin) -> InvoiceIssued:
    data = InvoiceIssuedData(
        **_whole_invoice(invoice), issued_on=invoice.issued_on, due_on=invoice.due_on
    )
    return InvoiceIssued(**origin.envelope(invoice.order_ids[0]), data=data)


def paid(invoice: Invoice, payment_id: str | None, origin: Origin) -> InvoicePaid:
    assert invoice.paid_at is not None, "only a paid invoice is announced as paid"
    data = InvoicePaidData(
        **_whole_invoice(invoice),
        paid_at=invoice.paid_at,
        payment_id=payment_id,
        was_overdue=invoice.was_overdue,
    )
    return InvoicePaid(**origin.envelope(invoice.order_ids[0]), data=data)


def overdue(invoice: Invoice, stage: OverdueStage, origin: Origin) -> InvoiceOverdue:
    data = InvoiceOverdueData(
        **_invoice_orders(invoice),
        stage=stage,
        due_on=invoice.due_on,
        days_overdue=days_overdue(invoice.due_on, origin.now.date()),
    )
    return InvoiceOverdue(**origin.envelope(invoice.order_ids[0]), data=data)


def reminder_due(invoice: Invoice, offset_days: int, origin: Origin) -> InvoiceReminderDue:
    data = InvoiceReminderDueData(
        **_invoice_orders(invoice),
        total=money(invoice.total, invoice.currency),
        due_on=invoice.due_on,
        offset_days=offset_days,
    )
    return InvoiceReminderDue(**origin.envelope(invoice.order_ids[0]), data=data)


def voided(invoice: Invoice, reason: str, origin: Origin) -> InvoiceVoided:
    data = InvoiceVoidedData(**_invoice_orders(invoice), reason=reason)
    return InvoiceVoided(**origin.envelope(invoice.order_ids[0]), data=data)


def payment_recorded(
    *,
    payment_id: str,
    invoice: Invoice | None,
    amount: Money,
    source: PaymentSource,
    outcome: PaymentOutcome,
    origin: Origin,
) -> PaymentRecorded:
    data = PaymentRecordedData(
        payment_id=payment_id,
        invoice_id=invoice.id if invoice else None,
        amount=amount,
        source=source,
        flagged=outcome.flagged,
        flag_reason=outcome.flag_reason,
    )
    order_id = invoice.order_ids[0] if invoice else None
    return PaymentRecorded(**origin.envelope(order_id), data=data)


def exemption_changed(
    customer_id: str, order_ids: list[UUID], reason: str | None, origin: Origin
) -> DunningExemptionChanged:
    """Exempted (with a reason) or no longer (``reason`` None); journaled under the orders."""
    data = DunningExemptionChangedData(
        customer_id=customer_id, exempt=reason is not None, reason=reason, order_ids=order_ids
    )
    return DunningExemptionChanged(**origin.envelope(next(iter(order_ids), None)), data=data)
