"""Commands of staff and their handlers, each ``handler(work, command, ctx)``: recording and
resolving payments, voiding invoices, dunning exemptions. None commits: the request's unit of
work does, with the events they announce."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from contracts import Money, PaymentSource
from services.billing import exemption_repository as exemptions_repo
from services.billing import order_repository as orders_repo
from services.billing import outgoing
from services.billing import payment_repository as payments_repo
from services.billing import repository as repo
from services.billing.domain import Exemption, Invoice
from services.billing.errors import InvoiceNotFound, UnmatchedPaymentNotFound
from services.billing.invoicing import take_payment, void
from services.kit.context import Context
from services.kit.db import UnitOfWork

# --- the commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordPayment:
    invoice_id: UUID
    amount: Money
    note: str | None


@dataclass(frozen=True, slots=True)
class ResolveUnmatched:
    payment_id: str
    resolution: str


@dataclass(frozen=True, slots=True)
class VoidInvoice:
    invoice_id: UUID
    reason: str


@dataclass(frozen=True, slots=True)
class Exempt:
    customer_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class EndExemption:
    customer_id: str


# --- their handlers ---------------------------------------------------------------------------


async def record_payment(
    work: UnitOfWork, command: RecordPayment, ctx: Context
) -> payments_repo.PaymentRecord:
    """A payment staff enter by hand; paying a void invoice is refused."""
    invoice = await repo.get_invoice(work.session, command.invoice_id, for_update=True)
    if invoice is None:
        raise InvoiceNotFound(command.invoice_id)
    invoice.ensure_payable_by_hand()
    record = await take_payment(
        work,
        ctx,
        payment_id=f"staff-{uuid4()}",
        invoice_id=command.invoice_id,
        amount=command.amount,
        source=PaymentSource.STAFF,
        note=command.note,
    )
    assert record is not None, "a new payment id is booked the first time"
    return record


async def resolve_unmatched(
    work: UnitOfWork, command: ResolveUnmatched, ctx: Context
) -> payments_repo.PaymentRecord:
    """Staff dealt with unmatched money by hand (refunded it, booked it elsewhere): it leaves
    the unmatched list, and the payment keeps who did what and when."""
    resolved = await payments_repo.resolve_unmatched(
        work.session, command.payment_id, by=ctx.actor.id, at=ctx.now, resolution=command.resolution
    )
    if resolved is None:
        raise UnmatchedPaymentNotFound(command.payment_id)
    return resolved


async def void_invoice(work: UnitOfWork, command: VoidInvoice, ctx: Context) -> Invoice:
    invoice = await repo.get_invoice(work.session, command.invoice_id, for_update=True)
    if invoice is None:
        raise InvoiceNotFound(command.invoice_id)
    await void(work, ctx, invoice, command.reason)
    return invoice


async def exempt(work: UnitOfWork, command: Exempt, ctx: Context) -> Exemption:
    """Exempt the customer from automatic suspension and termination (again, with a new
    reason, when already exempt); announced so every affected order's journal records it."""
    exemption = Exemption(command.customer_id, command.reason, ctx.actor.id, ctx.now)
    await exemptions_repo.set_exemption(work.session, exemption)
    await _announce(work, ctx, command.customer_id, command.reason)
    return exemption


async def end_exemption(work: UnitOfWork, command: EndExemption, ctx: Context) -> None:
    """Dunning applies to the customer again; ending no exemption changes nothing."""
    if await exemptions_repo.drop_exemption(work.session, command.customer_id):
        await _announce(work, ctx, command.customer_id, None)


async def _announce(work: UnitOfWork, ctx: Context, customer_id: str, reason: str | None) -> None:
    orders = await orders_repo.live_orders_of(work.session, customer_id)
    work.publish(outgoing.exemption_changed(customer_id, orders, reason, ctx))
