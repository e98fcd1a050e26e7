"""The rules of billing: invoices and their statuses, payments, and the dunning policy.

Pure: no database, broker or web here. Amounts are exact ``Decimal``s; an invoice has one
currency. Whatever a rule refuses is a named error; the HTTP layer maps each to a status once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from contracts.billing import InvoiceKind, OverdueStage
from services.billing.errors import CurrencyMismatch, InvoiceIsVoid, TransitionNotAllowed

ZERO = Decimal("0.00")


class InvoiceStatus(StrEnum):
    """Where an invoice stands."""

    OPEN = "open"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"


class InvoiceAction(StrEnum):
    """What can happen to an invoice's status."""

    PAY = "pay"
    MARK_OVERDUE = "mark overdue"
    VOID = "void"


#: Every allowed status change; anything not listed is refused (paid and void are final).
TRANSITIONS: dict[tuple[InvoiceStatus, InvoiceAction], InvoiceStatus] = {
    (InvoiceStatus.OPEN, InvoiceAction.PAY): InvoiceStatus.PAID,
    (InvoiceStatus.OVERDUE, InvoiceAction.PAY): InvoiceStatus.PAID,
    (InvoiceStatus.OPEN, InvoiceAction.MARK_OVERDUE): InvoiceStatus.OVERDUE,
    (InvoiceStatus.OPEN, InvoiceAction.VOID): InvoiceStatus.VOID,
    (InvoiceStatus.OVERDUE, InvoiceAction.VOID): InvoiceStatus.VOID,
}

#: Statuses in which an invoice still waits for money.
UNPAID = frozenset({InvoiceStatus.OPEN, InvoiceStatus.OVERDUE})


def invoice_number(year: int, sequence: int) -> str:
    """The number customers see: year and a gapless sequence within it, e.g. 2026-000123."""
    return f"{year}-{sequence:06d}"


@dataclass(frozen=True)
class Line:
    """One order on an invoice: what it pays for, for how long, and how much."""

    order_id: UUID
    description: str
    period_months: int
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class PaymentOutcome:
    """What a payment did: how much of it went to the invoice, and why staff should look."""

    applied: Decimal
    flag_reason: str | None = None
    settled: bool = False

    @property
    def flagged(self) -> bool:
        return self.flag_reason is not None


def unmatched_payment(invoice_id: UUID) -> PaymentOutcome:
    """A payment naming no invoice of ours: recorded and flagged, applied to nothing."""
    return PaymentOutcome(ZERO, f"no invoice {invoice_id} is known")


@dataclass
class Invoice:
    """An invoice of one customer, in one currency, with one line per order."""

    id: UUID
    number: str
    kind: InvoiceKind
    customer_id: str
    lines: tuple[Line, ...]
    issued_on: date
    due_on: date
    status: InvoiceStatus = InvoiceStatus.OPEN
    paid_amount: Decimal = ZERO
    paid_at: datetime | None = None
    renewal_id: UUID | None = None
    dunning_stage: OverdueStage | None = None
    voided_reason: str | None = field(default=None)
    #: The invoice this one corrects (issued in its place when an order left it).
    replaces: UUID | None = None

    @property
    def currency(self) -> str:
        return self.lines[0].currency

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return max(self.total - self.paid_amount, ZERO)

    @property
    def order_ids(self) -> list[UUID]:
        return [line.order_id for line in self.lines]

    @property
    def was_overdue(self) -> bool:
        """Whether dunning ever reached it (paying it lifts a non-payment suspension)."""
        return self.dunning_stage is not None

    def lines_without(self, order_id: UUID) -> list[Line]:
        """The lines left when an order's line is taken off: what a corrected invoice bills
        once one order of a batch is cancelled (none left: the invoice is simply void)."""
        return [line for line in self.lines if line.order_id != order_id]

    def _apply(self, action: InvoiceAction) -> None:
        target = TRANSITIONS.get((self.status, action))
        if target is None:
            raise TransitionNotAllowed(self.status, action)
        self.status = target

    def void(self, reason: str) -> None:
        """Cancel an unpaid invoice; refused once paid or void."""
        self._apply(InvoiceAction.VOID)
        self.voided_reason = reason

    def mark_overdue(self) -> None:
        """Past its due date and still open; an invoice already overdue stays so."""
        if self.status is not InvoiceStatus.OVERDUE:
            self._apply(InvoiceAction.MARK_OVERDUE)

    def ensure_payable_by_hand(self) -> None:
        """Staff entering a payment for a void invoice is a mistake to refuse, not to flag."""
        if self.status is InvoiceStatus.VOID:
            raise InvoiceIsVoid(self.number)

    def take_payment(self, amount: Decimal, currency: str, at: datetime) -> PaymentOutcome:
        """Apply money to the invoice; what cannot be applied is flagged, never dropped."""
        if self.status is InvoiceStatus.VOID:
            return PaymentOutcome(ZERO, f"invoice {self.number} is void")
        if currency != self.currency:
            return PaymentOutcome(ZERO, f"paid in {currency}, invoice is in {self.currency}")
        if self.status is InvoiceStatus.PAID:
            return PaymentOutcome(ZERO, f"invoice {self.number} was already paid: overpayment")
        applied = min(amount, self.outstanding)
        self.paid_amount += applied
        excess = amount - applied
        reason = f"overpayment of {excess} {currency}" if excess > 0 else None
        settled = self.outstanding == ZERO
        if settled:
            self._apply(InvoiceAction.PAY)
            self.paid_at = at
        return PaymentOutcome(applied, reason, settled=settled)


def new_invoice(
    *,
    invoice_id: UUID,
    number: str,
    kind: InvoiceKind,
    customer_id: str,
    lines: list[Line],
    issued_on: date,
    due_on: date,
    renewal_id: UUID | None = None,
    replaces: UUID | None = None,
) -> Invoice:
    """A fresh open invoice; refuses no lines, mixed currencies and an order listed twice."""
    if not lines:
        raise ValueError("an invoice has at least one line")
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise CurrencyMismatch(f"an invoice never mixes currencies, got {sorted(currencies)}")
    if len({line.order_id for line in lines}) != len(lines):
        raise ValueError("each order appears once on an invoice")
    return Invoice(
        id=invoice_id,
        number=number,
        kind=kind,
        customer_id=customer_id,
        lines=tuple(lines),
        issued_on=issued_on,
        due_on=max(due_on, issued_on),
        renewal_id=renewal_id,
        replaces=replaces,
    )


class BilledOrderStatus(StrEnum):
    """Billing's view of an order: placed, in a paid period, or cancelled."""

    PLACED = "placed"
    ACTIVE = "active"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BilledOrder:
    """What billing knows of an order to invoice its renewals."""

    order_id: UUID
    customer_id: str
    service_name: str
    plan: str
    price: Decimal
    currency: str
    period_months: int
    paid_until: date | None = None

    def renewal_line(self) -> Line:
        return Line(
            order_id=self.order_id,
            description=f"{self.service_name} ({self.plan}): renewal",
            period_months=self.period_months,
            amount=self.price,
            currency=self.currency,
        )


@dataclass(frozen=True)
class Exemption:
    """A customer whose unpaid invoices dunning only marks overdue: who decided it and why."""

    customer_id: str
    reason: str
    exempted_by: str
    exempted_at: datetime


@dataclass(frozen=True)
class DunningPolicy:
    """How billing chases money; configuration, not code (see the settings).

    Counted in whole days after the due date: the invoice turns overdue (and the customer is
    reminded) at ``overdue_after_days``, its orders are suspended at ``suspend_after_days``,
    and cancelled ``terminate_after_days`` after the suspension. Renewal invoices are issued
    ``renewal_lead_days`` before paid-until and are due on the paid-until date. Payment
    reminders fall on ``reminder_offsets_days`` from the due date (negative: before it)."""

    payment_terms_days: int = 14
    overdue_after_days: int = 1
    suspend_after_days: int = 7
    terminate_after_days: int = 14
    renewal_lead_days: int = 14
    reminder_offsets_days: tuple[int, ...] = (-3, 3)

    def __post_init__(self) -> None:
        if self.overdue_after_days < 1:
            raise ValueError("an invoice is overdue at the earliest one day after its due date")
        if self.suspend_after_days < self.overdue_after_days:
            raise ValueError("suspension cannot come before the invoice is overdue")
        if min(self.payment_terms_days, self.terminate_after_days, self.renewal_lead_days) < 0:
            raise ValueError("day counts are not negative")
        if len(set(self.reminder_offsets_days)) != len(self.reminder_offsets_days):
            raise ValueError("each reminder offset is given once")

    def stage_days(self) -> dict[OverdueStage, int]:
        """The day after the due date on which each stage is reached."""
        return {
            OverdueStage.OVERDUE: self.overdue_after_days,
            OverdueStage.SUSPEND: self.suspend_after_days,
            OverdueStage.TERMINATE: self.suspend_after_days + self.terminate_after_days,
        }

    def stages_reached(self, due_on: date, today: date, *, exempt: bool) -> list[OverdueStage]:
        """The stages an unpaid invoice has reached by ``today``, in order.

        A customer exempt from automatic suspension is only ever marked overdue."""
        overdue = days_overdue(due_on, today)
        return [
            stage
            for stage, day in self.stage_days().items()
            if overdue >= day and not (exempt and stage is not OverdueStage.OVERDUE)
        ]

    def reminder_due(self, due_on: date, today: date) -> int | None:
        """The reminder offset due today: the latest one reached, if any.

        A pass that missed days (a stopped service) sends the one reminder that fits now,
        not every offset it passed."""
        relative = (today - due_on).days
        reached = [offset for offset in self.reminder_offsets_days if offset <= relative]
        return max(reached, default=None)

    def reminder_windows(self, today: date) -> dict[int, tuple[date | None, date]]:
        """For each offset, the due dates whose reminder due today is that offset: after the
        first date (exclusive; ``None``: no bound) up to the second (inclusive)."""
        offsets = sorted(self.reminder_offsets_days)
        later: list[int | None] = [*offsets[1:], None]
        return {
            offset: (
                None if after is None else today - timedelta(days=after),
                today - timedelta(days=offset),
            )
            for offset, after in zip(offsets, later, strict=True)
        }

    def initial_due_on(self, issued_on: date) -> date:
        return issued_on + timedelta(days=self.payment_terms_days)

    def renewal_horizon(self, today: date) -> date:
        """Orders paid until this date or earlier are due for a renewal invoice."""
        return today + timedelta(days=self.renewal_lead_days)


def days_overdue(due_on: date, today: date) -> int:
    """Whole days since the due date (0 on or before it)."""
    return max((today - due_on).days, 0)
