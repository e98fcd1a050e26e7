"""Billing's payment use cases: money from the gateway or entered by staff, booked once per
payment id; what no invoice can take is flagged (and listed for staff as unmatched)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from contracts import Money, PaymentFailed, PaymentReceived, PaymentSource
from services.billing import events
from services.billing import repository as repo
from services.billing.domain import (
    ZERO,
    DunningPolicy,
    InvoiceNotFound,
    PaymentOutcome,
    UnmatchedPaymentNotFound,
    unmatched_payment,
)
from services.billing.events import Origin
from services.kit.db import UnitOfWork


async def payment_received(
    work: UnitOfWork, event: PaymentReceived, *, origin: Origin, policy: DunningPolicy
) -> None:
    """Money from the gateway: applied, or flagged; the same payment id books once."""
    data = event.data
    await take_payment(
        work,
        payment_id=data.payment_id,
        invoice_id=data.invoice_id,
        amount=data.amount,
        source=PaymentSource.GATEWAY,
        origin=origin,
        received_at=data.received_at,
    )


async def payment_failed(
    work: UnitOfWork, event: PaymentFailed, *, origin: Origin, policy: DunningPolicy
) -> None:
    """A failed attempt changes no invoice; it is kept so staff see it beside the invoice."""
    data = event.data
    await repo.add_payment(
        work.session,
        repo.PaymentRecord(
            payment_id=data.payment_id,
            outcome="failed",
            invoice_id=data.invoice_id,
            source=PaymentSource.GATEWAY.value,
            amount=data.amount.amount,
            currency=data.amount.currency,
            applied=ZERO,
            flag_reason=None,
            note=data.error,
            received_at=origin.now,
        ),
    )


async def resolve_unmatched(
    work: UnitOfWork, *, payment_id: str, resolution: str, origin: Origin
) -> repo.PaymentRecord:
    """Staff dealt with unmatched money by hand (refunded it, booked it elsewhere): it leaves
    the unmatched list, and the payment keeps who did what and when."""
    resolved = await repo.resolve_unmatched(
        work.session, payment_id, by=origin.actor.id, at=origin.now, resolution=resolution
    )
    if resolved is None:
        raise UnmatchedPaymentNotFound(payment_id)
    return resolved


async def record_staff_payment(
    work: UnitOfWork, *, invoice_id: UUID, amount: Money, note: str | None, origin: Origin
) -> repo.PaymentRecord:
    """A payment staff enter by hand; paying a void invoice is refused."""
    invoice = await repo.get_invoice(work.session, invoice_id, for_update=True)
    if invoice is None:
        raise InvoiceNotFound(invoice_id)
    invoice.ensure_payable_by_hand()
    record = await take_payment(
        work,
        payment_id=f"staff-{uuid4()}",
        invoice_id=invoice_id,
        amount=amount,
        source=PaymentSource.STAFF,
        origin=origin,
        note=note,
    )
    assert record is not None, "a new payment id is booked the first time"
    return record


async def take_payment(
    work: UnitOfWork,
    *,
    payment_id: str,
    invoice_id: UUID,
    amount: Money,
    source: PaymentSource,
    origin: Origin,
    note: str | None = None,
    received_at: datetime | None = None,
) -> repo.PaymentRecord | None:
    """Book a payment against an invoice, announce it, and the invoice if settled; ``None``
    when this payment id was booked before (a redelivery: nothing changes).

    The invoice is locked first, so a concurrent delivery of the same payment waits and then
    finds it booked; the in-memory invoice is only saved once the booking is in."""
    invoice = await repo.get_invoice(work.session, invoice_id, for_update=True)
    outcome: PaymentOutcome = (
        invoice.take_payment(amount.amount, amount.currency, origin.now)
        if invoice
        else unmatched_payment(invoice_id)
    )
    record = repo.PaymentRecord(
        payment_id=payment_id,
        outcome="received",
        invoice_id=invoice_id,
        source=source.value,
        amount=amount.amount,
        currency=amount.currency,
        applied=outcome.applied,
        flag_reason=outcome.flag_reason,
        received_at=received_at or origin.now,
        note=note,
        recorded_by=origin.actor.id if source is PaymentSource.STAFF else None,
    )
    if not await repo.add_payment(work.session, record):
        return None
    work.publish(
        events.payment_recorded(
            payment_id=payment_id,
            invoice=invoice,
            amount=amount,
            source=source,
            outcome=outcome,
            origin=origin,
        )
    )
    if invoice is not None and outcome.applied:
        await repo.save_invoice(work.session, invoice)
    if invoice is not None and outcome.settled:
        work.publish(events.paid(invoice, payment_id, origin))
    return record
