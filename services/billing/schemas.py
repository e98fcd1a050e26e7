"""What billing's HTTP API takes and returns (these become its OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from contracts import InvoiceKind, Money, PaymentSource
from contracts.envelope import Text
from services.billing.domain import Exemption, Invoice, InvoiceStatus
from services.billing.outgoing import money
from services.billing.payment_repository import PaymentRecord


class InvoiceLineView(BaseModel):
    """One order on an invoice."""

    order_id: UUID
    description: str
    period_months: int
    amount: Money


class InvoiceView(BaseModel):
    """An invoice as listed: number, status, amounts and dates."""

    id: UUID
    number: str = Field(examples=["2026-000123"])
    kind: InvoiceKind
    customer_id: str
    status: InvoiceStatus
    total: Money
    paid: Money
    """How much of the total has been paid so far."""
    issued_on: date
    due_on: date
    paid_at: datetime | None
    renewal_id: UUID | None
    order_ids: list[UUID]
    replaces: UUID | None = None
    """The void invoice this one corrects (an order of a batch was cancelled)."""

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceView:
        return cls(**_summary(invoice))


class PaymentView(BaseModel):
    """A payment booked for an invoice: applied, flagged, or a failed attempt."""

    payment_id: str
    outcome: str = Field(description="`received`, or `failed` for a failed gateway attempt.")
    invoice_id: UUID | None
    source: PaymentSource
    amount: Money
    applied: Money
    """How much of it went to the invoice."""
    flagged: bool
    flag_reason: str | None
    note: str | None
    received_at: datetime
    resolution: str | None = None
    """How staff dealt with it when no invoice took its money."""
    resolved_by: str | None = None
    resolved_at: datetime | None = None

    @classmethod
    def of(cls, record: PaymentRecord) -> PaymentView:
        return cls(
            payment_id=record.payment_id,
            outcome=record.outcome,
            invoice_id=record.invoice_id,
            source=PaymentSource(record.source),
            amount=money(record.amount, record.currency),
            applied=money(record.applied, record.currency),
            flagged=record.flag_reason is not None,
            flag_reason=record.flag_reason,
            note=record.note,
            received_at=record.received_at,
            resolution=record.resolution,
            resolved_by=record.resolved_by,
            resolved_at=record.resolved_at,
        )


class UnmatchedPaymentView(PaymentView):
    """A payment whose money did not (all) go to an invoice, and why."""

    unapplied: Money
    """How much of it no invoice took: to refund, or to book by hand."""

    @classmethod
    def of(cls, record: PaymentRecord) -> UnmatchedPaymentView:
        view = PaymentView.of(record)
        unapplied = money(record.amount - record.applied, record.currency)
        return cls(**view.model_dump(), unapplied=unapplied)


class UnmatchedPayments(BaseModel):
    """Unmatched payments, newest first."""

    items: list[UnmatchedPaymentView]
    count: int
    """How many there are in all."""


class InvoiceDetail(InvoiceView):
    """One invoice with its lines and its payments."""

    lines: list[InvoiceLineView]
    payments: list[PaymentView]
    voided_reason: str | None

    @classmethod
    def of_invoice(cls, invoice: Invoice, payments: list[PaymentRecord]) -> InvoiceDetail:
        lines = [
            InvoiceLineView(
                order_id=line.order_id,
                description=line.description,
                period_months=line.period_months,
                amount=money(line.amount, line.currency),
            )
            for line in invoice.lines
        ]
        return cls(
            **_summary(invoice),
            lines=lines,
            payments=[PaymentView.of(p) for p in payments],
            voided_reason=invoice.voided_reason,
        )


def _summary(invoice: Invoice) -> dict[str, object]:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "kind": invoice.kind,
        "customer_id": invoice.customer_id,
        "status": invoice.status,
        "total": money(invoice.total, invoice.currency),
        "paid": money(invoice.paid_amount, invoice.currency),
        "issued_on": invoice.issued_on,
        "due_on": invoice.due_on,
        "paid_at": invoice.paid_at,
        "renewal_id": invoice.renewal_id,
        "order_ids": invoice.order_ids,
        "replaces": invoice.replaces,
    }


class InvoicePage(BaseModel):
    """A page of invoices, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[InvoiceView]
    count: int
    """How many invoices match the filters in all."""
    next_cursor: str | None


class OrderInvoiceCount(BaseModel):
    order_id: UUID
    invoices: int


class InvoiceCounts(BaseModel):
    """How many invoices each asked order has (for the order list's Invoices menu)."""

    counts: list[OrderInvoiceCount]


class RecordPayment(BaseModel):
    """A payment staff received outside the gateway (e.g. a bank transfer)."""

    amount: Money
    note: Text | None = None

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if value.amount <= 0:
            raise ValueError("a payment is more than zero")
        return value


class ResolvePayment(BaseModel):
    """How staff dealt with unmatched money (e.g. "refunded on 2026-03-04")."""

    resolution: Text


class VoidInvoice(BaseModel):
    """Why staff void an invoice."""

    reason: Text


class Exempt(BaseModel):
    """Why a customer is exempt from automatic suspension."""

    reason: Text


class ExemptionView(BaseModel):
    """A customer exempt from automatic suspension: who decided it, when and why."""

    customer_id: str
    reason: str
    exempted_by: str
    exempted_at: datetime

    @classmethod
    def of(cls, exemption: Exemption) -> ExemptionView:
        return cls(
            customer_id=exemption.customer_id,
            reason=exemption.reason,
            exempted_by=exemption.exempted_by,
            exempted_at=exemption.exempted_at,
        )


class ExemptionPage(BaseModel):
    """Exempt customers, the latest decision first."""

    items: list[ExemptionView]
    count: int
    """How many customers are exempt in all."""
