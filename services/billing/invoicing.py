"""What billing's commands, reactions and jobs share: issuing, correcting and voiding an
invoice, and booking a payment. Each takes the unit of work and the context of its cause,
never commits, and announces what it did through the outbox."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from contracts import InvoiceKind, Money, PaymentSource
from services.billing import outgoing
from services.billing import payment_repository as payments_repo
from services.billing import repository as repo
from services.billing.domain import (
    ZERO,
    DunningPolicy,
    Invoice,
    Line,
    PaymentOutcome,
    invoice_number,
    new_invoice,
    unmatched_payment,
)
from services.kit.context import Context
from services.kit.db import UnitOfWork


async def issue_invoice(
    work: UnitOfWork,
    ctx: Context,
    *,
    kind: InvoiceKind,
    customer_id: str,
    lines: list[Line],
    policy: DunningPolicy,
    invoice_id: UUID | None = None,
    renewal_id: UUID | None = None,
    initial_for: UUID | None = None,
    due_on: date | None = None,
    replaces: UUID | None = None,
) -> Invoice:
    """Number, store and announce a new invoice, all in the caller's transaction.

    Due ``due_on``, or after the policy's payment terms when not given."""
    today = ctx.now.date()
    sequence = await repo.next_sequence(work.session, today.year)
    invoice = new_invoice(
        invoice_id=invoice_id or uuid4(),
        number=invoice_number(today.year, sequence),
        kind=kind,
        customer_id=customer_id,
        lines=lines,
        issued_on=today,
        due_on=due_on or policy.initial_due_on(today),
        renewal_id=renewal_id,
        replaces=replaces,
    )
    await repo.add_invoice(work.session, invoice, initial_for=initial_for)
    work.publish(outgoing.issued(invoice, ctx))
    return invoice


async def correct(
    work: UnitOfWork, ctx: Context, invoice: Invoice, lines: list[Line], policy: DunningPolicy
) -> None:
    """Bill the lines left of a void invoice on a new one in its place (a new number of the
    year's gapless sequence): the same kind, renewal request and due date (not before today),
    and the money already paid on it."""
    corrected = await issue_invoice(
        work,
        ctx,
        kind=invoice.kind,
        customer_id=invoice.customer_id,
        lines=lines,
        policy=policy,
        renewal_id=invoice.renewal_id,
        due_on=invoice.due_on,
        replaces=invoice.id,
    )
    if invoice.paid_amount == ZERO:
        return
    outcome = corrected.take_payment(invoice.paid_amount, invoice.currency, ctx.now)
    await repo.save_invoice(work.session, corrected)
    if outcome.settled:
        work.publish(outgoing.paid(corrected, None, ctx))


async def void(work: UnitOfWork, ctx: Context, invoice: Invoice, reason: str) -> None:
    invoice.void(reason)
    await repo.save_invoice(work.session, invoice)
    work.publish(outgoing.voided(invoice, reason, ctx))


async def take_payment(
    work: UnitOfWork,
    ctx: Context,
    *,
    payment_id: str,
    invoice_id: UUID,
    amount: Money,
    source: PaymentSource,
    note: str | None = None,
    received_at: datetime | None = None,
) -> payments_repo.PaymentRecord | None:
    """Book a payment against an invoice, announce it, and the invoice if settled; ``None``
    when this payment id was booked before (a redelivery: nothing changes).

    The invoice is locked first, so a concurrent delivery of the same payment waits and then
    finds it booked; the in-memory invoice is only saved once the booking is in."""
    invoice = await repo.get_invoice(work.session, invoice_id, for_update=True)
    outcome: PaymentOutcome = (
        invoice.take_payment(amount.amount, amount.currency, ctx.now)
        if invoice
        else unmatched_payment(invoice_id)
    )
    record = payments_repo.PaymentRecord(
        payment_id=payment_id,
        outcome="received",
        invoice_id=invoice_id,
        source=source.value,
        amount=amount.amount,
        currency=amount.currency,
        applied=outcome.applied,
        flag_reason=outcome.flag_reason,
        received_at=received_at or ctx.now,
        note=note,
        recorded_by=ctx.actor.id if source is PaymentSource.STAFF else None,
    )
    if not await payments_repo.add_payment(work.session, record):
        return None
    work.publish(
        outgoing.payment_recorded(
            payment_id=payment_id,
            invoice=invoice,
            amount=amount,
            source=source,
            outcome=outcome,
            ctx=ctx,
        )
    )
    if invoice is not None and outcome.applied:
        await repo.save_invoice(work.session, invoice)
    if invoice is not None and outcome.settled:
        work.publish(outgoing.paid(invoice, payment_id, ctx))
    return record
