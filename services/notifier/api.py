"""HTTP routes of the notifier: a customer's banners, staff notices, and support tickets."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.kit.auth import CurrentPrincipal, Principal, StaffPrincipal
from services.kit.db import UnitOfWork
from services.kit.idempotency import IdempotencyKey, claim, remember
from services.kit.problems import PROBLEM_RESPONSES, Forbidden
from services.notifier import banners, staff, tickets
from services.notifier.domain import NoticeKind, Placement, Severity
from services.notifier.notices import Context
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


def _ctx(request: Request) -> Context:
    context: Context = request.app.state.notifier
    return context


def _database(request: Request) -> Any:
    return request.app.state.runtime.database


def _correlation(request: Request) -> UUID:
    return UUID(getattr(request.state, "correlation_id", None) or str(uuid.uuid4()))


def _author(principal: Principal) -> tickets.Author:
    return tickets.Author(kind=principal.role.value, id=principal.id, name=principal.name)


@router.get("/banners", response_model=BannerPage, tags=["banners"])
async def list_banners(
    request: Request,
    principal: CurrentPrincipal,
    placement: Placement,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> BannerPage:
    """Every active banner the caller's page shows (`orders_tab` or `dashboard`), of every
    kind of notice: reminders, invoices, suspensions, incidents, acceptance, cancellation. Which
    page a kind reaches is the service's configuration (both pages unless set otherwise)."""
    placements = _ctx(request).placements
    async with _database(request).unit_of_work() as work:
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
async def dismiss_banner(
    request: Request, principal: CurrentPrincipal, banner_id: UUID
) -> Response:
    """Hide one of the caller's banners; a critical one is refused (409)."""
    async with _database(request).unit_of_work() as work:
        await banners.dismiss(
            work, banner_id, customer_id=principal.id, now=_ctx(request).clock.now()
        )
    return Response(status_code=204)


@router.get("/staff/notices", response_model=StaffNoticePage, tags=["staff notices"])
async def list_staff_notices(
    request: Request,
    principal: StaffPrincipal,
    mine: Annotated[bool, Query(description="Only those for the caller.")] = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> StaffNoticePage:
    """The staff queue's notices, newest first (staff only): e.g. held orders whose reminder
    time came. `mine=true`: only those for the caller."""
    async with _database(request).unit_of_work() as work:
        rows = await staff.notices(
            work,
            staff_id=principal.id if mine else None,
            after=decode_cursor(cursor),
            limit=limit,
        )
    items = [StaffNotice.model_validate(row) for row in rows]
    return StaffNoticePage(items=items, next_cursor=next_cursor(list(rows), limit))


@router.post("/tickets", status_code=201, response_model=Ticket, tags=["tickets"])
async def open_ticket(
    request: Request,
    principal: CurrentPrincipal,
    body: TicketCreate,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Open a support ticket about one of the caller's orders (customers only)."""
    if not principal.is_customer:
        raise Forbidden("Only customers open tickets about their orders")
    async with _database(request).unit_of_work() as work:

        async def create() -> Ticket:
            ticket_id = await tickets.open_customer_ticket(
                work,
                customer=_author(principal),
                order_id=body.order_id,
                subject=body.subject,
                message=body.message,
                now=_ctx(request).clock.now(),
                correlation_id=_correlation(request),
            )
            return await _ticket(work, ticket_id, customer_id=principal.id)

        scope = f"notifier:tickets:{principal.id}"
        return await _once(work, scope, idempotency_key, body, create)


@router.get("/tickets", response_model=TicketPage, tags=["tickets"])
async def list_tickets(
    request: Request, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
) -> TicketPage:
    """The caller's tickets, newest first; staff see every customer's."""
    async with _database(request).unit_of_work() as work:
        rows = await tickets.list_tickets(
            work,
            customer_id=_own(principal),
            after=decode_cursor(cursor),
            limit=limit,
        )
    items = [TicketSummary.model_validate(row) for row in rows]
    return TicketPage(items=items, next_cursor=next_cursor(list(rows), limit))


@router.get("/tickets/{ticket_id}", response_model=Ticket, tags=["tickets"])
async def read_ticket(request: Request, principal: CurrentPrincipal, ticket_id: UUID) -> Ticket:
    """One ticket with its messages: the caller's own, or any for staff."""
    async with _database(request).unit_of_work() as work:
        return await _ticket(work, ticket_id, customer_id=_own(principal))


@router.post(
    "/tickets/{ticket_id}/messages", status_code=201, response_model=Ticket, tags=["tickets"]
)
async def reply(
    request: Request,
    principal: CurrentPrincipal,
    ticket_id: UUID,
    body: MessageCreate,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Reply on a ticket: staff on any, a customer on their own."""
    async with _database(request).unit_of_work() as work:

        async def create() -> Ticket:
            await tickets.reply(
                work,
                ticket_id,
                author=_author(principal),
                body=body.body,
                customer_id=_own(principal),
                now=_ctx(request).clock.now(),
            )
            return await _ticket(work, ticket_id, customer_id=_own(principal))

        scope = f"notifier:ticket-messages:{principal.id}:{ticket_id}"
        return await _once(work, scope, idempotency_key, body, create)


async def _once(
    work: UnitOfWork,
    scope: str,
    key: str | None,
    body: BaseModel,
    create: Callable[[], Awaitable[BaseModel]],
) -> Any:
    """Create once per Idempotency-Key: a retry gets the first answer back (kit.idempotency)."""
    if key and (
        earlier := await claim(
            work.session, scope=scope, key=key, request=body.model_dump(mode="json")
        )
    ):
        return JSONResponse(earlier.body, status_code=earlier.status)
    answer = await create()
    if key:
        await remember(
            work.session, scope=scope, key=key, status=201, body=answer.model_dump(mode="json")
        )
    return answer


def _own(principal: Principal) -> str | None:
    """Whose tickets the caller may see: all (None) for staff, else their own."""
    return None if principal.is_staff else principal.id


async def _ticket(work: UnitOfWork, ticket_id: UUID, *, customer_id: str | None) -> Ticket:
    ticket, messages = await tickets.read_ticket(work, ticket_id, customer_id=customer_id)
    return Ticket(
        **TicketSummary.model_validate(ticket).model_dump(),
        messages=[TicketMessage.model_validate(message) for message in messages],
    )
