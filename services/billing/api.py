"""Billing's HTTP routes: invoices for customers and staff, payments (and unmatched ones),
voids, exemptions.

Each route takes the request's unit of work (the kit's ``Work``, committed when the route
returns) and calls a command handler or a repository read; the rules live in the domain."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from services.billing import commands
from services.billing import exemption_repository as exemptions_repo
from services.billing import payment_repository as payments_repo
from services.billing import repository as repo
from services.billing.domain import InvoiceStatus
from services.billing.errors import ExemptionNotFound, InvoiceNotFound
from services.billing.schemas import (
    Exempt,
    ExemptionPage,
    ExemptionView,
    InvoiceCounts,
    InvoiceDetail,
    InvoicePage,
    InvoiceView,
    OrderInvoiceCount,
    PaymentView,
    RecordPayment,
    ResolvePayment,
    UnmatchedPayments,
    UnmatchedPaymentView,
    VoidInvoice,
)
from services.kit.auth import CurrentPrincipal, Principal, StaffPrincipal
from services.kit.problems import PROBLEM_RESPONSES
from services.kit.requests import Ctx, Idempotency, Work

router = APIRouter(tags=["invoices"], responses=PROBLEM_RESPONSES)


def _own(principal: Principal) -> str | None:
    """The customer whose invoices the caller may see; None for staff and services."""
    return principal.id if principal.is_customer else None


@router.get("/invoices", response_model=InvoicePage, summary="List invoices")
async def list_invoices(
    principal: CurrentPrincipal,
    work: Work,
    status_: Annotated[InvoiceStatus | None, Query(alias="status")] = None,
    customer_id: str | None = None,
    order_id: UUID | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InvoicePage:
    """Invoices newest first. Customers see their own (``customer_id`` is ignored for them);
    staff see all and may filter by customer. ``order_id`` gives one order's invoices."""
    where = repo.InvoiceFilter(
        customer_id=_own(principal) or customer_id,
        status=status_,
        order_id=order_id,
        issued_from=issued_from,
        issued_to=issued_to,
    )
    page = await repo.list_invoices(work.session, where, before=_decode(cursor), limit=limit + 1)
    count = await repo.count_invoices(work.session, where)
    more = len(page) > limit
    page = page[:limit]
    return InvoicePage(
        items=[InvoiceView.of(invoice) for invoice in page],
        count=count,
        next_cursor=_encode(page[-1].number) if more else None,
    )


@router.get("/invoices/counts", response_model=InvoiceCounts, summary="Invoices per order")
async def invoice_counts(
    principal: CurrentPrincipal,
    work: Work,
    order_id: Annotated[list[UUID], Query(min_length=1, max_length=200)],
) -> InvoiceCounts:
    """How many invoices each given order has (the caller's own, for a customer)."""
    counts = await repo.invoice_counts(work.session, _own(principal), order_id)
    return InvoiceCounts(
        counts=[OrderInvoiceCount(order_id=key, invoices=value) for key, value in counts.items()]
    )


@router.get("/invoices/{invoice_id}", response_model=InvoiceDetail, summary="One invoice")
async def get_invoice(principal: CurrentPrincipal, work: Work, invoice_id: UUID) -> InvoiceDetail:
    """An invoice with its lines and payments; another customer's is not found."""
    invoice = await repo.get_invoice(work.session, invoice_id)
    if invoice is None or _own(principal) not in (None, invoice.customer_id):
        raise InvoiceNotFound(invoice_id)
    payments = await payments_repo.payments_of(work.session, invoice_id)
    return InvoiceDetail.of_invoice(invoice, payments)


@router.post(
    "/invoices/{invoice_id}/payments",
    response_model=PaymentView,
    status_code=status.HTTP_201_CREATED,
    summary="Record a payment (staff)",
)
async def record_payment(
    principal: StaffPrincipal,
    invoice_id: UUID,
    body: RecordPayment,
    work: Work,
    ctx: Ctx,
    once: Idempotency,
) -> Any:
    """Book money staff received for an invoice; refused (409) for a void invoice.

    An overpayment is booked and flagged. Retrying with the same ``Idempotency-Key`` returns
    the first answer."""
    command = commands.RecordPayment(invoice_id, body.amount, body.note)

    async def record() -> PaymentView:
        return PaymentView.of(await commands.record_payment(work, command, ctx))

    asked = {"invoice_id": str(invoice_id), **body.model_dump(mode="json")}
    return await once.answer(f"billing:record-payment:{principal.id}", asked, record)


@router.get(
    "/payments/unmatched",
    response_model=UnmatchedPayments,
    tags=["payments"],
    summary="Payments no invoice took (staff)",
)
async def unmatched_payments(
    _: StaffPrincipal,
    work: Work,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UnmatchedPayments:
    """Money received and not (all) applied: for an invoice billing does not know, a void or
    already paid one, in another currency, or more than was owed. The reason says which."""
    found = await payments_repo.unmatched_payments(work.session, limit)
    count = await payments_repo.count_unmatched_payments(work.session)
    return UnmatchedPayments(items=[UnmatchedPaymentView.of(p) for p in found], count=count)


@router.post(
    "/payments/unmatched/{payment_id}/resolve",
    response_model=PaymentView,
    tags=["payments"],
    summary="Mark unmatched money as dealt with (staff)",
)
async def resolve_unmatched(
    _: StaffPrincipal, payment_id: str, body: ResolvePayment, work: Work, ctx: Ctx
) -> PaymentView:
    """Refunded, or booked by hand: it leaves the unmatched list and keeps how, who and when.
    404 when no unmatched payment has that id (or it was resolved already)."""
    command = commands.ResolveUnmatched(payment_id, body.resolution)
    return PaymentView.of(await commands.resolve_unmatched(work, command, ctx))


@router.post(
    "/invoices/{invoice_id}/void", response_model=InvoiceView, summary="Void an invoice (staff)"
)
async def void_invoice(
    _: StaffPrincipal, invoice_id: UUID, body: VoidInvoice, work: Work, ctx: Ctx
) -> InvoiceView:
    """Void an open or overdue invoice; a paid or void one gives 409."""
    command = commands.VoidInvoice(invoice_id, body.reason)
    return InvoiceView.of(await commands.void_invoice(work, command, ctx))


@router.get(
    "/dunning-exemptions",
    response_model=ExemptionPage,
    tags=["dunning"],
    summary="Customers exempt from automatic suspension (staff)",
)
async def list_exemptions(
    _: StaffPrincipal,
    work: Work,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ExemptionPage:
    """Every exempt customer with who exempted them, when and why; the latest first."""
    found = await exemptions_repo.list_exemptions(work.session, limit)
    count = await exemptions_repo.count_exemptions(work.session)
    return ExemptionPage(items=[ExemptionView.of(e) for e in found], count=count)


@router.get(
    "/dunning-exemptions/{customer_id}",
    response_model=ExemptionView,
    tags=["dunning"],
    summary="One customer's exemption (staff)",
)
async def get_exemption(_: StaffPrincipal, customer_id: str, work: Work) -> ExemptionView:
    """404 when the customer is not exempt."""
    found = await exemptions_repo.get_exemption(work.session, customer_id)
    if found is None:
        raise ExemptionNotFound(customer_id)
    return ExemptionView.of(found)


@router.put(
    "/dunning-exemptions/{customer_id}",
    response_model=ExemptionView,
    tags=["dunning"],
    summary="Exempt a customer from automatic suspension (staff)",
)
async def exempt_customer(
    _: StaffPrincipal, customer_id: str, body: Exempt, work: Work, ctx: Ctx
) -> ExemptionView:
    """Their unpaid invoices are still marked overdue, but never suspend or terminate. The
    change is journaled under each of their orders."""
    command = commands.Exempt(customer_id, body.reason)
    return ExemptionView.of(await commands.exempt(work, command, ctx))


@router.delete(
    "/dunning-exemptions/{customer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["dunning"],
    summary="End a customer's exemption (staff)",
)
async def end_exemption(_: StaffPrincipal, customer_id: str, work: Work, ctx: Ctx) -> Response:
    """Automatic suspension applies to the customer again; journaled like the exemption."""
    await commands.end_exemption(work, commands.EndExemption(customer_id), ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _encode(number: str) -> str:
    return base64.urlsafe_b64encode(number.encode()).decode()


def _decode(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "cursor"),
                    "msg": "not a cursor of this list",
                    "type": "value_error",
                }
            ]
        ) from error
