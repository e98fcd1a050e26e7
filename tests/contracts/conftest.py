"""One valid sample of every event model; tests taking an `event` argument run on each."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from ipaddress import ip_address
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts import audit, billing, inbound, notifier, orders, renewals
from contracts.envelope import SYSTEM_ACTOR, Actor, ActorKind, Customer, Envelope, Money

ORDER = UUID("00000000-0000-4000-8000-000000000001")
OTHER_ORDER = UUID("00000000-0000-4000-8000-000000000002")
INVOICE = UUID("00000000-0000-4000-8000-00000000000a")
RENEWAL = UUID("00000000-0000-4000-8000-00000000000b")
NOW = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
CUSTOMER = Customer(id="cust-1", name="Anna Nowak", email="anna@example.com", locale="pl")
STAFF = Actor(kind=ActorKind.STAFF, id="staff-7", name="Jan Kowalski")


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def envelope(order_id: UUID | None = ORDER, actor: Actor = SYSTEM_ACTOR) -> dict[str, Any]:
    """The envelope fields of a sample, for `Model(**envelope(), data=...)`."""
    return {
        "occurred_at": NOW,
        "producer": "tests",
        "correlation_id": uuid4(),
        "causation_id": uuid4(),
        "actor": actor,
        "order_id": order_id,
    }


def _order_samples() -> list[Envelope[Any]]:
    o, r = orders, renewals
    item = r.RenewalItem(
        order_id=ORDER, service_name="r1z7og44", plan="VPS S", period_months=3, price=eur("12.00")
    )
    return [
        o.OrderPlaced(
            **envelope(actor=Actor(kind=ActorKind.CUSTOMER, id="cust-1", name="Anna Nowak")),
            data=o.OrderPlacedData(
                service_name="r1z7og44",
                product="VPS",
                plan="VPS S",
                price=eur("4.00"),
                period_months=1,
                customer=CUSTOMER,
                campaign="spring",
                comment="for tests",
            ),
        ),
        o.OrderAccepted(**envelope(), data=o.OrderAcceptedData(invoice_id=INVOICE)),
        o.OrderCompleted(
            **envelope(actor=STAFF),
            data=o.OrderCompletedData(
                contract="PKG-1",
                starts_on=date(2025, 3, 1),
                main_ip=ip_address("192.0.2.10"),
                paid_until=date(2025, 3, 31),
            ),
        ),
        o.OrderHeld(
            **envelope(actor=STAFF),
            data=o.OrderHeldData(
                reason="waiting for documents",
                remind_at=NOW,
                held_from=o.OrderStatus.IN_PROGRESS,
            ),
        ),
        o.OrderReleased(
            **envelope(actor=STAFF), data=o.OrderReleasedData(back_to=o.OrderStatus.IN_PROGRESS)
        ),
        o.OrderHoldReminderDue(
            **envelope(), data=o.OrderHoldReminderDueData(remind_at=NOW, reason="documents")
        ),
        o.OrderCancellationScheduled(
            **envelope(), data=o.OrderCancellationScheduledData(effective_at=NOW, reason=None)
        ),
        o.OrderCancellationRevoked(
            **envelope(), data=o.OrderCancellationRevokedData(effective_at=NOW)
        ),
        o.OrderCancelled(
            **envelope(),
            data=o.OrderCancelledData(
                mode=o.CancellationMode.NON_PAYMENT_TERMINATION, invoice_id=INVOICE
            ),
        ),
        o.OrderSuspended(
            **envelope(),
            data=o.OrderSuspendedData(cause=o.SuspensionCause.NON_PAYMENT, invoice_id=INVOICE),
        ),
        o.OrderReactivated(
            **envelope(),
            data=o.OrderReactivatedData(cause=o.SuspensionCause.VIOLATION, case_id="AB-1"),
        ),
        r.OrderRenewalRequested(
            **envelope(),
            data=r.OrderRenewalRequestedData(
                renewal_id=RENEWAL,
                customer=CUSTOMER,
                items=[item, item.model_copy(update={"order_id": OTHER_ORDER})],
            ),
        ),
        r.OrderRenewed(
            **envelope(),
            data=r.OrderRenewedData(
                renewal_id=RENEWAL,
                invoice_id=INVOICE,
                period_months=3,
                paid_until=date(2025, 6, 30),
            ),
        ),
        o.OrderCommentChanged(**envelope(), data=o.OrderCommentChangedData(comment=None)),
    ]


def _billing_samples() -> list[Envelope[Any]]:
    b = billing
    lines = [
        b.InvoiceLine(
            order_id=ORDER, description="VPS S, 1 month", period_months=1, amount=eur("0.10")
        ),
        b.InvoiceLine(
            order_id=OTHER_ORDER, description="VPS S, 1 month", period_months=1, amount=eur("0.20")
        ),
    ]
    invoice = {
        "invoice_id": INVOICE,
        "number": "2025/03/0001",
        "kind": b.InvoiceKind.RENEWAL,
        "customer_id": "cust-1",
        "lines": lines,
        "total": eur("0.30"),
        "renewal_id": RENEWAL,
    }
    named = {
        "invoice_id": INVOICE,
        "number": "2025/03/0001",
        "customer_id": "cust-1",
        "order_ids": [ORDER, OTHER_ORDER],
    }
    return [
        b.InvoiceIssued(
            **envelope(),
            data=b.InvoiceIssuedData(
                **invoice, issued_on=date(2025, 3, 1), due_on=date(2025, 3, 15)
            ),
        ),
        b.InvoicePaid(**envelope(), data=b.InvoicePaidData(**invoice, paid_at=NOW)),
        b.InvoiceOverdue(
            **envelope(),
            data=b.InvoiceOverdueData(
                **named, stage=b.OverdueStage.SUSPEND, due_on=date(2025, 3, 15), days_overdue=7
            ),
        ),
        b.InvoiceReminderDue(
            **envelope(),
            data=b.InvoiceReminderDueData(
                **named, total=eur("0.30"), due_on=date(2025, 3, 15), offset_days=-3
            ),
        ),
        b.InvoiceVoided(**envelope(), data=b.InvoiceVoidedData(**named, reason="cancelled")),
        b.DunningExemptionChanged(
            **envelope(actor=STAFF),
            data=b.DunningExemptionChangedData(
                customer_id="cust-1", exempt=True, reason="key account", order_ids=[ORDER]
            ),
        ),
        b.PaymentRecorded(
            **envelope(actor=STAFF),
            data=b.PaymentRecordedData(
                payment_id="staff-1",
                invoice_id=INVOICE,
                amount=eur("0.30"),
                source=b.PaymentSource.STAFF,
                flagged=True,
                flag_reason="paid twice?",
            ),
        ),
    ]


def _notifier_samples() -> list[Envelope[Any]]:
    n = notifier
    sent = {
        "notification_id": uuid4(),
        "channel": n.NotificationChannel.EMAIL,
        "kind": "acceptance",
        "recipient": "anna@example.com",
    }
    return [
        n.NotificationDelivered(**envelope(), data=n.NotificationDeliveredData(**sent)),
        n.NotificationFailed(
            **envelope(), data=n.NotificationFailedData(**sent, error="550", attempts=5)
        ),
        n.TicketOpened(
            **envelope(),
            data=n.TicketOpenedData(
                ticket_id=uuid4(),
                customer_id="cust-1",
                subject="Order accepted",
                reason=n.TicketReason.ACCEPTANCE,
            ),
        ),
    ]


def _inbound_samples() -> list[Envelope[Any]]:
    i = inbound
    gateway = Actor(kind=ActorKind.SERVICE, id="payments", name="Payment gateway")
    return [
        i.PaymentReceived(
            **envelope(order_id=None, actor=gateway),
            data=i.PaymentReceivedData(
                payment_id="pay-1", invoice_id=INVOICE, amount=eur("4.00"), received_at=NOW
            ),
        ),
        i.PaymentFailed(
            **envelope(order_id=None, actor=gateway),
            data=i.PaymentFailedData(
                payment_id="pay-2", invoice_id=INVOICE, amount=eur("4.00"), error="declined"
            ),
        ),
        i.ServiceDelivered(
            **envelope(),
            data=i.ServiceDeliveredData(
                main_ip=ip_address("2001:db8::1"), contract="PKG-1", starts_on=date(2025, 3, 1)
            ),
        ),
        i.ViolationConfirmed(
            **envelope(), data=i.ViolationConfirmedData(case_id="AB-1", reason="spam")
        ),
        i.ViolationLifted(**envelope(), data=i.ViolationLiftedData(case_id="AB-1")),
        i.IncidentOpened(
            **envelope(order_id=None),
            data=i.IncidentOpenedData(
                incident_id="INC-1",
                main_ip=ip_address("192.0.2.10"),
                summary="host down",
                severity=i.IncidentSeverity.CRITICAL,
            ),
        ),
        i.IncidentResolved(
            **envelope(order_id=None), data=i.IncidentResolvedData(incident_id="INC-1")
        ),
    ]


def _audit_samples() -> list[Envelope[Any]]:
    leaf = audit.CheckpointLeaf(order_id=ORDER, seq=1, entry_hash="ab" * 32)
    return [
        audit.JournalCheckpointed(
            **envelope(order_id=None),
            data=audit.JournalCheckpointedData(
                tree_size=1,
                root_hash="cd" * 32,
                issued_at="2025-03-01T12:30:00.000000Z",
                key_id="0123456789abcdef",
                signature="ef" * 64,
                previous_size=0,
                consistency_proof=[],
                leaves=[leaf],
            ),
        )
    ]


def all_samples() -> list[Envelope[Any]]:
    """One sample event of every model, in topic order."""
    return [
        *_order_samples(),
        *_billing_samples(),
        *_notifier_samples(),
        *_inbound_samples(),
        *_audit_samples(),
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "event" in metafunc.fixturenames:
        samples = all_samples()
        metafunc.parametrize("event", samples, ids=[f"{e.type}@{e.version}" for e in samples])


@pytest.fixture
def samples() -> dict[str, Envelope[Any]]:
    """One sample event per ``type@version``."""
    return {f"{event.type}@{event.version}": event for event in all_samples()}
