"""Billing's outgoing contracts: its domain facts as the events of ``billing.events``, each
with the envelope of the context that caused it (the mapping at the edge)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts import (
    Actor,
    ActorKind,
    DunningExemptionChanged,
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
from services.kit.context import Context

PRODUCER = "billing"
#: Billing acting on its own: a job, or a reaction to another service's event.
BILLING_ACTOR = Actor(kind=ActorKind.SERVICE, id=PRODUCER, name="Billing")


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


def issued(invoice: Invoice, ctx: Context) -> InvoiceIssued:
    data = InvoiceIssuedData(
        **_whole_invoice(invoice), issued_on=invoice.issued_on, due_on=invoice.due_on
    )
    return InvoiceIssued(**ctx.envelope(PRODUCER, invoice.order_ids[0]), data=data)


def paid(invoice: Invoice, payment_id: str | None, ctx: Context) -> InvoicePaid:
    assert invoice.paid_at is not None, "only a paid invoice is announced as paid"
    data = InvoicePaidData(
        **_whole_invoice(invoice),
        paid_at=invoice.paid_at,
        payment_id=payment_id,
        was_overdue=invoice.was_overdue,
    )
    return InvoicePaid(**ctx.envelope(PRODUCER, invoice.order_ids[0]), data=data)


def overdue(invoice: Invoice, stage: OverdueStage, ctx: Context) -> InvoiceOverdue:
    data = InvoiceOverdueData(
        **_invoice_orders(invoice),
        stage=stage,
        due_on=invoice.due_on,
        days_overdue=days_overdue(invoice.due_on, ctx.now.date()),
    )
    return InvoiceOverdue(**ctx.envelope(PRODUCER, invoice.order_ids[0]), data=data)


def reminder_due(invoice: Invoice, offset_days: int, ctx: Context) -> InvoiceReminderDue:
    data = InvoiceReminderDueData(
        **_invoice_orders(invoice),
        total=money(invoice.total, invoice.currency),
        due_on=invoice.due_on,
        offset_days=offset_days,
    )
    return InvoiceReminderDue(**ctx.envelope(PRODUCER, invoice.order_ids[0]), data=data)


def voided(invoice: Invoice, reason: str, ctx: Context) -> InvoiceVoided:
    data = InvoiceVoidedData(**_invoice_orders(invoice), reason=reason)
    return InvoiceVoided(**ctx.envelope(PRODUCER, invoice.order_ids[0]), data=data)


def payment_recorded(
    *,
    payment_id: str,
    invoice: Invoice | None,
    amount: Money,
    source: PaymentSource,
    outcome: PaymentOutcome,
    ctx: Context,
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
    return PaymentRecorded(**ctx.envelope(PRODUCER, order_id), data=data)


def exemption_changed(
    customer_id: str, order_ids: list[UUID], reason: str | None, ctx: Context
) -> DunningExemptionChanged:
    """Exempted (with a reason) or no longer (``reason`` None); journaled under the orders."""
    data = DunningExemptionChangedData(
        customer_id=customer_id, exempt=reason is not None, reason=reason, order_ids=order_ids
    )
    return DunningExemptionChanged(**ctx.envelope(PRODUCER, next(iter(order_ids), None)), data=data)
