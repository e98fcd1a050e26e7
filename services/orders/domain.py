"""The rules of an order: its statuses, who may move it between them, and what each move records.

Pure: no database, broker or web here. Every change goes through :func:`check`, which reads
the transition table (``services.orders.transitions``); a change the table does not allow
raises a named error and leaves the order untouched. Methods return domain events (plain
dataclasses, ``services.orders.events``) that the handlers map to contract events at the edge.

Suspensions are kept as their causes (open violation cases, unpaid overdue invoices), so a
payment lifts only a non-payment suspension and lifting a violation leaves an unpaid invoice's
suspension in place.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from contracts.envelope import ActorKind
from contracts.orders import CancellationMode, OrderStatus, SuspensionCause
from services.orders.catalogue import Plan, RenewalLine
from services.orders.checks import check
from services.orders.errors import (
    InvalidField,
    OrderConflict,
)
from services.orders.events import (
    Accepted,
    CancellationRevoked,
    CancellationScheduled,
    Cancelled,
    CommentChanged,
    Completed,
    Event,
    Held,
    HoldReminderDue,
    Placed,
    Reactivated,
    Released,
    Renewed,
    Suspended,
)
from services.orders.transitions import SYSTEM, Action, Target

__all__ = ["Order"]

S = OrderStatus


# --- the order --------------------------------------------------------------------------------


class InvoiceState(StrEnum):
    """What the orders service knows of an invoice billing told it about."""

    ISSUED = "issued"
    PAID = "paid"
    VOIDED = "voided"


@dataclass(frozen=True)
class By:
    """Who acted: their kind, id and display name at the time."""

    kind: ActorKind
    id: str
    name: str


@dataclass(frozen=True)
class CustomerRef:
    id: str
    name: str
    email: str
    locale: str = "en"


@dataclass(frozen=True)
class Hold:
    reason: str
    by: By
    at: datetime
    remind_at: datetime
    held_from: S
    reminded: bool = False


@dataclass(frozen=True)
class Cancellation:
    mode: CancellationMode
    by: By
    at: datetime
    reason: str | None = None
    invoice_id: UUID | None = None


@dataclass(frozen=True)
class ScheduledCancellation:
    effective_at: datetime
    by: By
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Completion:
    by: By
    at: datetime
    contract: str
    starts_on: date
    main_ip: str


@dataclass
class Order:
    """One purchased service or product and everything recorded about it."""

    id: UUID
    created_at: datetime
    service_name: str
    product: str
    plan: str
    price: Decimal
    currency: str
    period_months: int
    customer: CustomerRef
    campaign: str | None = None
    comment: str | None = None
    status: S = S.NOT_PROCESSED
    paid_until: date | None = None
    accepted_at: datetime | None = None
    hold: Hold | None = None
    completion: Completion | None = None
    cancellation: Cancellation | None = None
    scheduled_cancellation: ScheduledCancellation | None = None
    violation_cases: frozenset[str] = field(default_factory=frozenset)
    unpaid_invoices: frozenset[UUID] = field(default_factory=frozenset)
    #: How many invoices billing issued for it, as its row said when read: counted by the
    #: reaction to ``invoice.issued``, never changed by the order's own transitions (saving
    #: the order leaves it as it is).
    invoice_count: int = 0

    @property
    def main_ip(self) -> str | None:
        return self.completion.main_ip if self.completion else None

    def days_left(self, today: date) -> int | None:
        """Whole days from today to the last paid day (0 once it has passed); never stored."""
        return None if self.paid_until is None else max((self.paid_until - today).days, 0)

    # --- lifecycle ----------------------------------------------------------------------------

    @classmethod
    def place(
        cls,
        *,
        id: UUID,
        now: datetime,
        service_name: str,
        plan: Plan,
        period_months: int,
        customer: CustomerRef,
        campaign: str | None = None,
        comment: str | None = None,
    ) -> tuple[Order, list[Event]]:
        """A new order, not processed yet, priced by its plan for the chosen period."""
        if not plan.active:
            raise InvalidField("plan", f"the plan {plan.id!r} is not offered any more")
        order = cls(
            id=id,
            created_at=now,
            service_name=service_name,
            product=plan.product,
            plan=plan.id,
            price=plan.price_for(period_months),
            currency=plan.currency,
            period_months=period_months,
            customer=customer,
            campaign=campaign,
            comment=comment,
        )
        return order, [Placed(id)]

    def accept(self, invoice_id: UUID, now: datetime) -> list[Event]:
        """The first invoice was paid: accepted for processing (a held order stays held)."""
        self._move(Action.ACCEPT, SYSTEM)
        if self.hold is not None:
            self.hold = replace(self.hold, held_from=S.IN_PROGRESS)
        self.accepted_at = now
        return [Accepted(self.id, invoice_id)]

    def put_on_hold(self, by: By, now: datetime, reason: str, remind_at: datetime) -> list[Event]:
        held_from = self.status
        self._move(Action.HOLD, by.kind)
        self.hold = Hold(reason, by, now, remind_at, held_from)
        return [Held(self.id, reason, remind_at, held_from)]

    def release(self, by: By) -> list[Event]:
        self._move(Action.RELEASE, by.kind)
        self.hold = None
        return [Released(self.id, self.status)]

    def remind(self, now: datetime) -> list[Event]:
        """The hold's reminder time has come: say so once."""
        self._move(Action.REMIND, SYSTEM)
        assert self.hold is not None
        self.hold = replace(self.hold, reminded=True)
        return [HoldReminderDue(self.id, self.hold.remind_at, self.hold.reason, self.hold.by)]

    def complete(
        self, by: By, now: datetime, *, contract: str, starts_on: date, main_ip: str
    ) -> list[Event]:
        """Delivered: the paid period starts on the contract's start date."""
        self._move(Action.COMPLETE, by.kind)
        self.completion = Completion(by, now, contract, starts_on, main_ip)
        self.paid_until = add_months(starts_on, self.period_months) - timedelta(days=1)
        return [Completed(self.id, contract, starts_on, main_ip, self.paid_until)]

    def cancel(self, by: By, now: datetime, reason: str | None = None) -> list[Event]:
        """Cancel at once (customer or staff)."""
        self._move(Action.CANCEL, by.kind)
        return self._cancelled(Cancellation(CancellationMode.IMMEDIATE, by, now, reason))

    def terminate(self, now: datetime, invoice_id: UUID) -> list[Event]:
        """Billing's grace period for an unpaid invoice is over."""
        self._move(Action.TERMINATE, SYSTEM)
        mode = CancellationMode.NON_PAYMENT_TERMINATION
        return self._cancelled(Cancellation(mode, SYSTEM_BY, now, None, invoice_id))

    def schedule_cancellation(self, by: By, now: datetime, reason: str | None) -> list[Event]:
        """Cancel when the paid period ends (00:00 UTC after paid-until); revocable until then."""
        self._move(Action.SCHEDULE_CANCELLATION, by.kind)
        assert self.paid_until is not None  # an active order was completed
        effective_at = datetime.combine(self.paid_until + timedelta(days=1), time(), UTC)
        self.scheduled_cancellation = ScheduledCancellation(effective_at, by, now, reason)
        return [CancellationScheduled(self.id, effective_at, reason)]

    def revoke_cancellation(self, by: By) -> list[Event]:
        self._move(Action.REVOKE_CANCELLATION, by.kind)
        assert self.scheduled_cancellation is not None
        effective_at = self.scheduled_cancellation.effective_at
        self.scheduled_cancellation = None
        return [CancellationRevoked(self.id, effective_at)]

    def cancel_at_period_end(self, now: datetime) -> list[Event]:
        """The scheduled cancellation's time has come (a job runs this)."""
        self._move(Action.CANCEL_AT_PERIOD_END, SYSTEM, now=now)
        scheduled = self.scheduled_cancellation
        assert scheduled is not None
        mode = CancellationMode.END_OF_PERIOD
        return self._cancelled(Cancellation(mode, scheduled.by, now, scheduled.reason))

    def _cancelled(self, cancellation: Cancellation) -> list[Event]:
        self.cancellation = cancellation
        self.hold = self.scheduled_cancellation = None
        self.violation_cases, self.unpaid_invoices = frozenset(), frozenset()
        c = cancellation
        return [Cancelled(self.id, c.mode, c.reason, c.invoice_id)]

    # --- suspensions --------------------------------------------------------------------------

    def suspend_for_violation(self, by: By, case_id: str, reason: str | None) -> list[Event]:
        check(self, Action.SUSPEND_VIOLATION, by.kind)
        if case_id in self.violation_cases:
            raise OrderConflict(f"the violation case {case_id!r} already suspends this order")
        self._move(Action.SUSPEND_VIOLATION, by.kind)
        self.violation_cases |= {case_id}
        cause = SuspensionCause.VIOLATION
        return [Suspended(self.id, cause, reason, None, case_id, self.status)]

    def lift_violation(self, by: By, case_id: str | None, reason: str | None) -> list[Event]:
        """Lift one case (or, without a case id, every case); an unpaid invoice still suspends."""
        check(self, Action.LIFT_VIOLATION, by.kind)
        if case_id is not None and case_id not in self.violation_cases:
            raise OrderConflict(f"the violation case {case_id!r} does not suspend this order")
        lifted = frozenset({case_id}) if case_id is not None else self.violation_cases
        self._move(Action.LIFT_VIOLATION, by.kind, cases=self.violation_cases - lifted)
        cause = SuspensionCause.VIOLATION
        return [
            Reactivated(self.id, cause, reason, None, case, self.status) for case in sorted(lifted)
        ]

    def suspend_for_non_payment(self, invoice_id: UUID) -> list[Event]:
        check(self, Action.SUSPEND_NON_PAYMENT, SYSTEM)
        if invoice_id in self.unpaid_invoices:
            raise OrderConflict(f"the invoice {invoice_id} already suspends this order")
        self._move(Action.SUSPEND_NON_PAYMENT, SYSTEM)
        self.unpaid_invoices |= {invoice_id}
        cause = SuspensionCause.NON_PAYMENT
        return [Suspended(self.id, cause, None, invoice_id, None, self.status)]

    def settle(self, invoice_id: UUID) -> list[Event]:
        """An overdue invoice was paid: its non-payment suspension is lifted (never a violation)."""
        check(self, Action.SETTLE, SYSTEM)
        if invoice_id not in self.unpaid_invoices:
            raise OrderConflict(f"the invoice {invoice_id} does not suspend this order")
        self._move(Action.SETTLE, SYSTEM, unpaid=self.unpaid_invoices - {invoice_id})
        cause = SuspensionCause.NON_PAYMENT
        return [Reactivated(self.id, cause, None, invoice_id, None, self.status)]

    # --- renewal and comment ------------------------------------------------------------------

    def request_renewal(self, by: By, plan: Plan, period_months: int) -> RenewalLine:
        """A line of a renewal request, priced by the plan for a period it allows."""
        self._move(Action.RENEW, by.kind)
        price = plan.price_for(period_months)
        return RenewalLine(self.id, self.service_name, plan.id, period_months, price, plan.currency)

    def extend(self, renewal_id: UUID | None, invoice_id: UUID, months: int) -> list[Event]:
        """A paid renewal: paid-until moves on by the period."""
        self._move(Action.EXTEND, SYSTEM)
        assert self.paid_until is not None
        self.paid_until = add_months(self.paid_until + timedelta(days=1), months) - timedelta(1)
        return [Renewed(self.id, renewal_id, invoice_id, months, self.paid_until)]

    def change_comment(self, by: By, comment: str | None) -> list[Event]:
        self._move(Action.CHANGE_COMMENT, by.kind)
        self.comment = comment
        return [CommentChanged(self.id, comment)]

    # --- the table ----------------------------------------------------------------------------

    def _move(
        self,
        action: Action,
        kind: ActorKind,
        *,
        now: datetime | None = None,
        cases: frozenset[str] | None = None,
        unpaid: frozenset[UUID] | None = None,
    ) -> None:
        """Check the table and the action's guard, then take the new status; raises if refused.

        ``cases`` and ``unpaid``: the suspension causes left after a lift or a settlement
        (recorded only once the check passed, as the new status depends on them)."""
        target = check(self, action, kind, now)
        self.violation_cases = self.violation_cases if cases is None else cases
        self.unpaid_invoices = self.unpaid_invoices if unpaid is None else unpaid
        if target is Target.HELD_FROM:
            assert self.hold is not None
            target = self.hold.held_from
        elif target is Target.REMAINING_SUSPENSION:
            target = _suspension_status(bool(self.violation_cases), bool(self.unpaid_invoices))
        self.status = target


def _suspension_status(violation: bool, unpaid: bool) -> S:
    if violation:
        return S.SUSPENDED_VIOLATION
    return S.SUSPENDED_NON_PAYMENT if unpaid else S.PROCESSED


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


SYSTEM_BY = By(SYSTEM, "system", "System")
