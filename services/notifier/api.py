"""HTTP routes of the notifier: a customer's banners, staff notices, and support tickets.

Each route takes the request's unit of work (the kit's ``Work``, committed when the route
returns) and calls a command handler or a read."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from services.kit.auth import CurrentPrincipal, Principal, StaffPrincipal
from services.kit.db import UnitOfWork
from services.kit.problems import PROBLEM_RESPONSES, Forbidden
from services.kit.requests import Ctx, Idempotency, Work
from services.notifier import banners, commands, staff, tickets
from services.notifier.domain import NoticeKind, Placement, Severity
from services.notifier.notices import Teller
from services.notifier.schemas import (
    Banner,
    BannerPage,
    MessageCreate,
    StaffNotice,
    StaffNoticePage,
    Ticket,
    TicketCreate,
    TicketMessage,
    TicketPage,
    TicketSummary,
    decode_cursor,
    next_cursor,
)

router = APIRouter(responses=PROBLEM_RESPONSES)

Cursor = Annotated[str | None, Query(description="From the previous page's `next_cursor`.")]
Limit = Annotated[int, Query(ge=1, le=200)]


def _teller(request: Request) -> Teller:
    teller: Teller = request.app.state.teller
    return teller


@router.get("/banners", response_model=BannerPage, tags=["banners"])
async def list_banners(
    request: Request,
    principal: CurrentPrincipal,
    work: Work,
    placement: Placement,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> BannerPage:
    """Every active banner the caller's page shows (`orders_tab` or `dashboard`), of every
    kind of notice: reminders, invoices, suspensions, incidents, acceptance, cancellation. Which
    page a kind reaches is the service's configuration (both pages unless set otherwise)."""
    placements = _teller(request).placements
    rows = await banners.active(
        work,
        customer_id=principal.id,
        page=placement,
        placements=placements,
        after=decode_cursor(cursor),
        limit=limit,
    )
    items = [
        Banner(
            **{
                **row._mapping,
                "placement": placements.of(NoticeKind(row.kind)),
                "dismissible": row.severity != Severity.CRITICAL.value,
            }
        )
        for row in rows
    ]
    return BannerPage(items=items, next_cursor=next_cursor(list(rows), limit))


@router.post("/banners/{banner_id}/dismiss", status_code=204, tags=["banners"])
async def dismiss_banner(_: CurrentPrincipal, banner_id: UUID, work: Work, ctx: Ctx) -> Response:
    """Hide one of the caller's banners; a critical one is refused (409)."""
    await commands.dismiss_banner(work, commands.DismissBanner(banner_id), ctx)
    return Response(status_code=204)


@router.get("/staff/notices", response_model=StaffNoticePage, tags=["staff notices"])
async def list_staff_notices(
    principal: StaffPrincipal,
    work: Work,
    mine: Annotated[bool, Query(description="Only those for the caller.")] = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> StaffNoticePage:
    """The staff queue's notices, newest first (staff only): e.g. held orders whose reminder
    time came. `mine=true`: only those for the caller."""
    rows = await staff.notices(
        work, staff_id=principal.id if mine else None, after=decode_cursor(cursor), limit=limit
    )
    items = [StaffNotice.model_validate(row) for row in rows]
    return StaffNoticePage(items=items, next_cursor=next_cursor(list(rows), limit))


@router.post("/tickets", status_code=201, response_model=Ticket, tags=["tickets"])
async def open_ticket(
    principal: CurrentPrincipal, body: TicketCreate, work: Work, ctx: Ctx, once: Idempotency
) -> Any:
    """Open a support ticket about one of the caller's orders (customers only)."""
    if not principal.is_customer:
        raise Forbidden("Only customers open tickets about their orders")
    command = commands.OpenTicket(body.order_id, body.subject, body.message)

    async def create() -> Ticket:
        ticket_id = await commands.open_customer_ticket(work, command, ctx)
        return await _ticket(work, ticket_id, customer_id=principal.id)

    asked = body.model_dump(mode="json")
    return await once.answer(f"notifier:tickets:{principal.id}", asked, create)


@router.get("/tickets", response_model=TicketPage, tags=["tickets"])
async def list_tickets(
    principal: CurrentPrincipal, work: Work, cursor: Cursor = None, limit: Limit = 50
) -> TicketPage:
    """The caller's tickets, newest first; staff see every customer's."""
    rows = await tickets.list_tickets(
        work, customer_id=_own(principal), after=decode_cursor(cursor), limit=limit
    )
    items = [TicketSummary.model_validate(row) for row in rows]
    return TicketPage(items=items, next_cursor=next_cursor(list(rows), limit))


@router.get("/tickets/{ticket_id}", response_model=Ticket, tags=["tickets"])
async def read_ticket(principal: CurrentPrincipal, ticket_id: UUID, work: Work) -> Ticket:
    """One ticket with its messages: the caller's own, or any for staff."""
    return await _ticket(work, ticket_id, customer_id=_own(principal))


@router.post(
    "/tickets/{ticket_id}/messages", status_code=201, response_model=Ticket, tags=["tickets"]
)
async def reply(
    principal: CurrentPrincipal,
    ticket_id: UUID,
    body: MessageCreate,
    work: Work,
    ctx: Ctx,
    once: Idempotency,
) -> Any:
    """Reply on a ticket: staff on any, a customer on their own."""
    command = commands.Reply(ticket_id, body.body)

    async def create() -> Ticket:
        await commands.reply(work, command, ctx)
        return await _ticket(work, ticket_id, customer_id=_own(principal))

    scope = f"notifier:ticket-messages:{principal.id}:{ticket_id}"
    return await once.answer(scope, body.model_dump(mode="json"), create)


def _own(principal: Principal) -> str | None:
    """Whose tickets the caller may see: all (None) for staff, else their own."""
    return None if principal.is_staff else principal.id


async def _ticket(work: UnitOfWork, ticket_id: UUID, *, customer_id: str | None) -> Ticket:
    ticket, messages = await tickets.read_ticket(work, ticket_id, customer_id=customer_id)
    return Ticket(
        **TicketSummary.model_validate(ticket).model_dump(),
        messages=[TicketMessage.model_validate(message) for message in messages],
    )
