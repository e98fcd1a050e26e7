"""The notifier's rules: which notice a fact produces, when renewal reminders are due, which
banners a customer may dismiss, which language a customer is written to in, and how often a
mail is tried again.

A notice is one thing the customer is told: a banner and/or an email, identified by a unique
``key`` (a redelivered fact or a repeated job pass finds the key taken and does nothing) and
tied to a ``cause`` (the condition it is about; when the condition ends, every banner with
that cause resolves)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID

from contracts.orders import OrderStatus, SuspensionCause
from services.notifier.errors import BannerNotDismissible

#: The languages our templates are written in; anything else falls back to English.
LOCALES = ("en", "de", "pl")
FALLBACK_LOCALE = "en"


class MailStatus(StrEnum):
    """Where a recorded mail stands: waiting to be sent (again), sent, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Severity(StrEnum):
    """How serious a notice is; a critical banner cannot be dismissed."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Placement(StrEnum):
    """Where in the customer panel a banner is shown."""

    ORDERS_TAB = "orders_tab"
    DASHBOARD = "dashboard"
    BOTH = "both"


class NoticeKind(StrEnum):
    """What a notice is about; names the email template and the banner text."""

    RENEWAL_REMINDER = "renewal_reminder"
    ACCEPTANCE = "acceptance"
    SUSPENSION_NON_PAYMENT = "suspension_non_payment"
    SUSPENSION_VIOLATION = "suspension_violation"
    CANCELLATION = "cancellation"
    INVOICE_OVERDUE = "invoice_overdue"
    INVOICE_REMINDER = "invoice_reminder"
    INCIDENT = "incident"


@dataclass(frozen=True)
class Notice:
    """One thing to tell a customer about an order: a banner, an email, or both."""

    kind: NoticeKind
    key: str
    """Unique per notice: the same fact or job pass never produces a second one."""
    cause: str
    """The condition the notice is about; its banners resolve when the condition ends."""
    severity: Severity
    link: str
    """Where in the panel the banner leads (a path)."""
    banner: bool = True
    email: bool = True


# --- causes -----------------------------------------------------------------------------------


def acceptance_cause(order_id: UUID) -> str:
    return f"accepted:{order_id}"


def suspension_cause(order_id: UUID, cause: str, ref: UUID | str | None) -> str:
    """One cause of an order's suspension: a violation case, or an unpaid invoice. An order may
    be suspended for several at once; each has its own banner, which ends with that cause."""
    return f"{suspension_causes(order_id)}{cause}:{ref or ''}"


def suspension_causes(order_id: UUID) -> str:
    """The prefix every suspension cause of the order starts with."""
    return f"suspension:{order_id}:"


def legacy_suspension_cause(order_id: UUID) -> str:
    """The one cause suspension banners had before causes were told apart: it cannot say
    which cause it is about, so it ends only when the order is active again."""
    return f"suspension:{order_id}"


def renewal_cause(order_id: UUID) -> str:
    return f"renewal:{order_id}"


def invoice_cause(invoice_id: UUID) -> str:
    return f"invoice:{invoice_id}"


def incident_cause(incident_id: str) -> str:
    return f"incident:{incident_id}"


def order_link(order_id: UUID) -> str:
    return f"/orders/{order_id}"


# --- which notice a fact produces -------------------------------------------------------------


def acceptance_notice(order_id: UUID, event_id: UUID) -> Notice:
    """The order was paid and accepted: good news, shown until the service is delivered."""
    return Notice(
        NoticeKind.ACCEPTANCE,
        key=f"acceptance:{event_id}",
        cause=acceptance_cause(order_id),
        severity=Severity.INFO,
        link=order_link(order_id),
    )


def suspension_notice(
    order_id: UUID, event_id: UUID, *, violation: bool, ref: str | None = None
) -> Notice:
    """Access is blocked: critical on every screen until its cause (the case or invoice
    ``ref``) ends, even when the order stays suspended for another."""
    kind = NoticeKind.SUSPENSION_VIOLATION if violation else NoticeKind.SUSPENSION_NON_PAYMENT
    cause = "violation" if violation else "non_payment"
    return Notice(
        kind,
        key=f"suspension:{event_id}",
        cause=suspension_cause(order_id, cause, ref),
        severity=Severity.CRITICAL,
        link=order_link(order_id) if violation else f"{order_link(order_id)}/invoices",
    )


def cancellation_notice(order_id: UUID, event_id: UUID) -> Notice:
    """The order ended. A warning, not critical: the cause never ends, so the customer must be
    able to dismiss it."""
    return Notice(
        NoticeKind.CANCELLATION,
        key=f"cancellation:{event_id}",
        cause=f"cancelled:{order_id}",
        severity=Severity.WARNING,
        link=order_link(order_id),
    )


def overdue_notice(
    order_id: UUID, invoice_id: UUID, event_id: UUID, *, stage: str
) -> Notice | None:
    """An unpaid invoice. Only the first stage is told here: the later stages become
    ``order.suspended`` and ``order.cancelled``, which have notices of their own."""
    if stage != "overdue":
        return None
    return Notice(
        NoticeKind.INVOICE_OVERDUE,
        key=f"overdue:{event_id}",
        cause=invoice_cause(invoice_id),
        severity=Severity.WARNING,
        link=f"{order_link(order_id)}/invoices",
    )


def invoice_reminder_notice(order_id: UUID, invoice_id: UUID, offset_days: int) -> Notice:
    """An unpaid invoice near or past its due date: once per invoice and offset, shown until
    the invoice is paid or voided."""
    return Notice(
        NoticeKind.INVOICE_REMINDER,
        key=f"invoice-reminder:{invoice_id}:{offset_days}",
        cause=invoice_cause(invoice_id),
        severity=Severity.WARNING,
        link=f"{order_link(order_id)}/invoices",
    )


def incident_notice(order_id: UUID, incident_id: str, *, severity: str) -> Notice:
    """A server incident: critical unless monitoring calls it minor; until it is resolved."""
    return Notice(
        NoticeKind.INCIDENT,
        key=f"incident:{incident_id}:{order_id}",
        cause=incident_cause(incident_id),
        severity=Severity.WARNING if severity == "minor" else Severity.CRITICAL,
        link=order_link(order_id),
    )


def reminder_notice(order_id: UUID, paid_until: date, offset_days: int) -> Notice:
    """A renewal reminder, once per order, paid period and offset; warns in the last days."""
    return Notice(
        NoticeKind.RENEWAL_REMINDER,
        key=f"reminder:{order_id}:{paid_until.isoformat()}:{offset_days}",
        cause=renewal_cause(order_id),
        severity=Severity.WARNING if offset_days <= 3 else Severity.INFO,
        link=f"{order_link(order_id)}/renew",
    )


# --- the order's status after a suspension event ---------------------------------------------


def status_after_suspension(cause: SuspensionCause, status: OrderStatus | None) -> OrderStatus:
    """The order's status after ``order.suspended``: as the event says; an event from before
    it said so was read as its own cause's suspension."""
    return status or OrderStatus(f"suspended_{cause}")


def status_after_lift(status: OrderStatus | None) -> OrderStatus:
    """The order's status after ``order.reactivated``: as the event says (still suspended when
    another cause remains); an event from before it said so meant processed."""
    return status or OrderStatus.PROCESSED


# --- one notice per thing to do --------------------------------------------------------------


def same_thing(paid_until: date | None, due_on: date) -> bool:
    """Whether an invoice due on ``due_on`` is what the order's renewal reminder is about: a
    renewal invoice falls due on the last paid day. Then the invoice's reminder is the one
    notice: it names the invoice, its amount and where to pay it, where a renewal reminder
    would invite the customer to request a second invoice for the same period."""
    return paid_until == due_on


# --- staff notices ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffDesk:
    """Where staff are told: the queue's mailbox, and the domain of staff members' addresses."""

    queue_address: str = "orders-desk@hosting.example"
    mail_domain: str = "hosting.example"

    def recipients(self, staff_id: str | None) -> list[str]:
        """The staff member (when known) and the queue, each once."""
        member = [f"{staff_id}@{self.mail_domain}"] if staff_id else []
        return list(dict.fromkeys([*member, self.queue_address]))


HOLD_REMINDER = "hold_reminder"
"""The staff notice of a held order whose reminder time has come."""


def hold_reminder_key(event_id: UUID) -> str:
    return f"hold-reminder:{event_id}"


# --- reminders --------------------------------------------------------------------------------


def days_left(paid_until: date, today: date) -> int:
    """Whole days from today to the last paid day (0 on the last paid day)."""
    return (paid_until - today).days


def due_reminder(paid_until: date, today: date, offsets: tuple[int, ...]) -> int | None:
    """The reminder offset due today: the nearest offset not below the days left.

    A pass that missed days (a stopped service) sends the one reminder that fits now, not
    every offset it passed; a period already over gets none."""
    left = days_left(paid_until, today)
    if left < 0:
        return None
    fitting = [offset for offset in offsets if offset >= left]
    return min(fitting) if fitting else None


def reminder_window(today: date, offsets: tuple[int, ...]) -> tuple[date, date]:
    """The paid-until dates that may have a reminder due today (inclusive)."""
    return today, today + timedelta(days=max(offsets, default=0))


# --- banners ----------------------------------------------------------------------------------


def ensure_dismissible(severity: Severity) -> None:
    """Refuse to dismiss a critical banner: it goes away when its cause ends."""
    if severity is Severity.CRITICAL:
        raise BannerNotDismissible(
            "A critical banner cannot be dismissed; it goes away when its cause is resolved"
        )


@dataclass(frozen=True)
class Placements:
    """Where the banner of each kind of notice is shown: a notice reaches the orders tab and the
    dashboard (and the customer's inbox) unless configuration keeps a kind to one page. Decided
    when a page is shown, not when the banner is made, so a changed setting applies to every
    banner on screen."""

    configured: Mapping[NoticeKind, Placement] = field(default_factory=dict)

    def of(self, kind: NoticeKind) -> Placement:
        return self.configured.get(kind, Placement.BOTH)

    def kinds_on(self, page: Placement) -> list[NoticeKind]:
        """The kinds whose banners a page shows (``both``: those shown on every page)."""
        return [kind for kind in NoticeKind if self.of(kind) in (page, Placement.BOTH)]


# --- language ---------------------------------------------------------------------------------


def pick_locale(locale: str | None) -> str:
    """The template language for a customer locale (``de-AT`` → ``de``); English otherwise."""
    language = (locale or "").split("-")[0].split("_")[0].lower()
    return language if language in LOCALES else FALLBACK_LOCALE


# --- mail retries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a failed mail is tried again."""

    max_attempts: int
    first_delay: timedelta
    max_delay: timedelta

    def next_delay(self, attempts: int) -> timedelta | None:
        """The wait after ``attempts`` failed tries; ``None`` when it is time to give up."""
        if attempts >= self.max_attempts:
            return None
        delay: timedelta = self.first_delay * 2 ** (attempts - 1)
        return min(delay, self.max_delay)
