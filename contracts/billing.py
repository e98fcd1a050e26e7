"""Events of ``billing.events``: invoices, payments and dunning, published by the billing service.

An invoice may cover several orders (a batch renewal), so invoice events are `MultiOrderEvent`s:
the envelope ``order_id`` is the invoice's first order (its Kafka key) and the data lists all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from contracts.envelope import (
    Contract,
    Envelope,
    Money,
    MultiOrderData,
    MultiOrderEvent,
    ShortText,
    Text,
    Topic,
    UtcDatetime,
    single_currency,
)


class InvoiceKind(StrEnum):
    """What an invoice is for."""

    INITIAL = "initial"
    RENEWAL = "renewal"


class OverdueStage(StrEnum):
    """How far dunning of an unpaid invoice has gone (the days are billing's configuration)."""

    OVERDUE = "overdue"
    """Past its due date: remind the customer."""
    SUSPEND = "suspend"
    """Suspend the orders for non-payment."""
    TERMINATE = "terminate"
    """Grace period over: cancel the orders."""


class PaymentSource(StrEnum):
    """Where a payment came from."""

    GATEWAY = "gateway"
    STAFF = "staff"


class InvoiceLine(Contract):
    """One order on an invoice: the period it pays for and its amount."""

    order_id: UUID
    description: Text
    period_months: int = Field(ge=1, le=120)
    """The period this line pays for."""
    amount: Money


class _InvoiceData(MultiOrderData):
    """Fields every event about one whole invoice shares."""

    invoice_id: UUID
    number: ShortText
    """The invoice number the customer sees."""
    kind: InvoiceKind
    customer_id: ShortText
    lines: list[InvoiceLine] = Field(min_length=1)
    """One line per order, each order once."""
    total: Money
    """Sum of the lines, in their one currency."""
    renewal_id: UUID | None = None
    """The renewal request it invoices (renewal invoices issued on request only)."""

    @model_validator(mode="after")
    def _lines_add_up(self) -> Self:
        currency = single_currency([*(line.amount for line in self.lines), self.total])
        if sum(line.amount.amount for line in self.lines) != self.total.amount:
            raise ValueError(f"total must be the sum of the lines ({currency})")
        if len(set(self.concerned_order_ids)) != len(self.lines):
            raise ValueError("each order appears once on an invoice")
        if self.kind is InvoiceKind.INITIAL and self.renewal_id is not None:
            raise ValueError("only a renewal invoice has a renewal_id")
        return self

    @property
    def concerned_order_ids(self) -> Sequence[UUID]:
        """The invoiced orders, in the order of the lines."""
        return [line.order_id for line in self.lines]


class InvoiceIssuedData(_InvoiceData):
    """An invoice was issued: for a new order, a requested renewal, or ahead of paid-until."""

    issued_on: date
    due_on: date

    @model_validator(mode="after")
    def _due_after_issue(self) -> Self:
        if self.due_on < self.issued_on:
            raise ValueError("due_on cannot be before issued_on")
        return self


class InvoiceIssued(MultiOrderEvent[InvoiceIssuedData]):
    """``invoice.issued``: a new invoice; ``order_id`` is its first line's order."""

    type: Literal["invoice.issued"] = "invoice.issued"
    version: Literal[1] = 1


class InvoicePaidData(_InvoiceData):
    """An invoice was paid in full: orders accept (initial), renew (renewal) or reactivate."""

    paid_at: UtcDatetime
    payment_id: ShortText | None = None
    """The payment that settled it, if one payment did."""
    was_overdue: bool = False
    """Whether it was paid after its due date (lifts a non-payment suspension)."""


class InvoicePaid(MultiOrderEvent[InvoicePaidData]):
    """``invoice.paid``: an invoice is settled; ``order_id`` is its first line's order."""

    type: Literal["invoice.paid"] = "invoice.paid"
    version: Literal[1] = 1


class _InvoiceOrdersData(MultiOrderData):
    """An invoice named by id and number, with the orders on it."""

    invoice_id: UUID
    number: ShortText
    """The invoice number the customer sees."""
    customer_id: ShortText
    order_ids: list[UUID] = Field(min_length=1)
    """The orders on the invoice, first line first."""

    @property
    def concerned_order_ids(self) -> Sequence[UUID]:
        """The orders on the invoice, first line first."""
        return self.order_ids


class InvoiceOverdueData(_InvoiceOrdersData):
    """An invoice is unpaid past its due date and dunning reached a stage."""

    stage: OverdueStage
    due_on: date
    days_overdue: int = Field(ge=0)
    """Whole days since the due date."""


class InvoiceOverdue(MultiOrderEvent[InvoiceOverdueData]):
    """``invoice.overdue``: one per stage reached; ``order_id`` is the invoice's first order."""

    type: Literal["invoice.overdue"] = "invoice.overdue"
    version: Literal[1] = 1


class InvoiceReminderDueData(_InvoiceOrdersData):
    """An unpaid invoice reached one of billing's reminder offsets around its due date."""

    total: Money
    """The invoice's total, in its one currency."""
    due_on: date
    offset_days: int = Field(ge=-366, le=366)
    """The reminder's offset from the due date: negative before it, positive after it."""


class InvoiceReminderDue(MultiOrderEvent[InvoiceReminderDueData]):
    """``invoice.reminder_due``: one per invoice and offset; ``order_id`` is its first order."""

    type: Literal["invoice.reminder_due"] = "invoice.reminder_due"
    version: Literal[1] = 1


class InvoiceVoidedData(_InvoiceOrdersData):
    """An open invoice will not be paid any more (e.g. its orders were cancelled)."""

    reason: Text


class InvoiceVoided(MultiOrderEvent[InvoiceVoidedData]):
    """``invoice.voided``: the invoice is void; ``order_id`` is its first order."""

    type: Literal["invoice.voided"] = "invoice.voided"
    version: Literal[1] = 1


class PaymentRecordedData(Contract):
    """Billing recorded a payment: from the gateway, or entered by staff."""

    payment_id: ShortText
    """The gateway's payment id, or the id billing gave a payment staff entered."""
    invoice_id: UUID | None = None
    """The invoice it pays; null when it could not be matched to one."""
    amount: Money
    source: PaymentSource
    flagged: bool = False
    """Needs a look from staff (e.g. amount or currency does not match the invoice)."""
    flag_reason: Text | None = None
    """Why it was flagged (required when flagged)."""

    @model_validator(mode="after")
    def _flag_has_reason(self) -> Self:
        if self.flagged != (self.flag_reason is not None):
            raise ValueError("a flagged payment has a flag_reason, an unflagged one has none")
        return self


class PaymentRecorded(Envelope[PaymentRecordedData]):
    """``payment.recorded``: a payment was booked.

    ``order_id`` is the first order of the invoice paid, or null when there is no matched invoice.
    """

    type: Literal["payment.recorded"] = "payment.recorded"
    version: Literal[1] = 1


class DunningExemptionChangedData(MultiOrderData):
    """Staff exempted a customer from dunning's suspension and termination, or ended it."""

    customer_id: ShortText
    exempt: bool
    """True: the customer's unpaid invoices are only marked overdue; false: dunning applies
    to them again."""
    reason: Text | None = None
    """Why staff exempted the customer (given with an exemption)."""
    order_ids: list[UUID] = Field(default_factory=list)
    """The customer's orders that are not cancelled: the journals that record the change."""

    @property
    def concerned_order_ids(self) -> Sequence[UUID]:
        return self.order_ids

    @model_validator(mode="after")
    def _exemption_has_reason(self) -> Self:
        if self.exempt != (self.reason is not None):
            raise ValueError("an exemption has a reason, its end has none")
        return self


class DunningExemptionChanged(Envelope[DunningExemptionChangedData]):
    """``dunning.exemption_changed``: ``order_id`` is the first of the customer's orders, or
    null when billing knows none."""

    type: Literal["dunning.exemption_changed"] = "dunning.exemption_changed"
    version: Literal[1] = 1

    @model_validator(mode="after")
    def _keyed_by_first_order(self) -> Self:
        if self.order_id != next(iter(self.data.order_ids), None):
            raise ValueError("order_id must be the first order the data lists, if any")
        return self


BILLING = Topic(
    "billing.events",
    InvoiceIssued,
    InvoicePaid,
    InvoiceOverdue,
    InvoiceReminderDue,
    InvoiceVoided,
    PaymentRecorded,
    DunningExemptionChanged,
)
