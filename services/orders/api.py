"""HTTP routes of the orders: the list, the detail view and every action on an order.

Each route is one unit of work: request model in, handler, response model out. Who may do
what is the domain's decision (403/409 come from its named errors), and a customer reaching
for another customer's order gets a 404.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import pydantic_core
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus
from services.kit import idempotency
from services.kit.auth import CurrentPrincipal, Principal, StaffPrincipal
from services.kit.db import UnitOfWork
from services.kit.problems import PROBLEM_RESPONSES, Forbidden
from services.kit.runtime import Runtime
from services.orders import handlers, queries, repository
from services.orders import schemas as s
from services.orders.catalogue import InvalidField
from services.orders.domain import By, CustomerRef, Order, OrderNotFound
from services.orders.outgoing import Context
from services.orders.views import order_detail, order_row

router = APIRouter(prefix="/orders", tags=["orders"], responses=PROBLEM_RESPONSES)


@contextlib.asynccontextmanager
async def unit_of_work(
    request: Request, principal: Principal
) -> AsyncIterator[tuple[UnitOfWork, Context]]:
    """The request's one transaction, and the context its events carry."""
    runtime: Runtime = request.app.state.runtime
    by = By(ActorKind(principal.role.value), principal.id, principal.name)
    ctx = Context(by, runtime.clock.now(), uuid.UUID(request.state.correlation_id))
    async with runtime.database.unit_of_work() as work:
        yield work, ctx


def _detail(order: Order, invoice_count: int, ctx: Context) -> s.OrderDetail:
    return order_detail(order, invoice_count, ctx.by.kind, ctx.now.date())


@router.post("", status_code=201, response_model=s.OrderDetail, summary="Place an order")
async def place_order(
    body: s.PlaceOrder,
    request: Request,
    principal: CurrentPrincipal,
    key: idempotency.IdempotencyKey = None,
) -> Any:
    """The customer orders a plan for a period it allows; retry safely with `Idempotency-Key`.
    The order's notices are mailed, so the token must carry an `email` claim (403 otherwise)."""
    if not principal.is_customer:
        raise Forbidden("Only a customer places orders, for themselves")
    customer = _customer(principal)
    scope, request_json = f"orders:place:{principal.id}", body.model_dump(mode="json")
    async with unit_of_work(request, principal) as (work, ctx):
        if key:
            earlier = await idempotency.claim(
                work.session, scope=scope, key=key, request=request_json
            )
            if earlier is not None:
                return JSONResponse(earlier.body, status_code=earlier.status)
        order = await handlers.place_order(
            work,
            ctx,
            customer=customer,
            plan_id=body.plan,
            period_months=body.period_months,
            campaign=body.campaign,
            comment=body.comment,
        )
        detail = _detail(order, 0, ctx)
        if key:
            answer = detail.model_dump(mode="json")
            await idempotency.remember(work.session, scope=scope, key=key, status=201, body=answer)
    return detail


@router.get("", response_model=s.OrderList, summary="List orders")
async def list_orders(
    request: Request,
    principal: CurrentPrincipal,
    service_name: str | None = None,
    status: Annotated[list[OrderStatus] | None, Query()] = None,
    created_from: date | None = None,
    created_to: date | None = None,
    comment: str | None = None,
    id: UUID | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Search the visible text.")] = None,
    customer: Annotated[str | None, Query(description="Staff only: one customer's orders.")] = None,
    sort: queries.SortKey = queries.SortKey.CREATED_AT,
    descending: bool = True,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Response:
    """A customer's own orders, or (staff) everyone's; filters, search, keyset paging."""
    where = queries.OrderFilter(
        customer_id=principal.id if principal.is_customer else customer,
        service_name=service_name,
        statuses=status or [],
        created_from=created_from,
        created_to=created_to,
        comment=comment,
        order_id=id,
        search=q,
    )
    page_request = queries.PageRequest(sort, descending, limit, cursor)
    runtime: Runtime = request.app.state.runtime
    async with runtime.database.reading() as session:
        page = await queries.list_orders(session, where, page_request)
        columns = await repository.get_columns(session, principal.id)
    today = runtime.clock.now().date()
    listed = {
        "items": [order_row(row, today) for row in page.rows],
        "next_cursor": page.next_cursor,
        "columns": columns or [],
    }
    # Rows as s.OrderList serialises them, without building fifty models (views.order_row).
    return Response(pydantic_core.to_json(listed), media_type="application/json")


@router.get("/{order_id}", response_model=s.OrderDetail, summary="Manage order: the detail")
async def get_order(order_id: UUID, request: Request, principal: CurrentPrincipal) -> s.OrderDetail:
    async with unit_of_work(request, principal) as (work, ctx):
        found = await queries.order_detail(work.session, order_id)
    if found is None or (principal.is_customer and found[0].customer.id != principal.id):
        raise OrderNotFound(order_id)
    return _detail(*found, ctx)


Change = Callable[[UnitOfWork, Context], Awaitable[Order]]


async def _change(request: Request, principal: Principal, change: Change) -> s.OrderDetail:
    async with unit_of_work(request, principal) as (work, ctx):
        order = await change(work, ctx)
        found = await queries.order_detail(work.session, order.id)
    assert found is not None
    return _detail(*found, ctx)


@router.put("/{order_id}/comment", response_model=s.OrderDetail, summary="Change the comment")
async def change_comment(
    order_id: UUID, body: s.ChangeComment, request: Request, principal: CurrentPrincipal
) -> s.OrderDetail:
    return await _change(
        request, principal, lambda w, c: handlers.change_comment(w, c, order_id, body.comment)
    )


@router.post("/{order_id}/cancel", response_model=s.OrderDetail, summary="Cancel an order")
async def cancel(
    order_id: UUID, body: s.Cancel, request: Request, principal: CurrentPrincipal
) -> s.OrderDetail:
    """At once, or at the end of the paid period (`at_period_end`); staff on a customer's behalf."""
    return await _change(
        request,
        principal,
        lambda w, c: handlers.cancel(
            w, c, order_id, at_period_end=body.at_period_end, reason=body.reason
        ),
    )


@router.post(
    "/{order_id}/revoke-cancellation",
    response_model=s.OrderDetail,
    summary="Revoke a cancellation scheduled for the end of the period",
)
async def revoke_cancellation(
    order_id: UUID, request: Request, principal: CurrentPrincipal
) -> s.OrderDetail:
    return await _change(
        request, principal, lambda w, c: handlers.revoke_cancellation(w, c, order_id)
    )


@router.post("/{order_id}/renew", response_model=s.RenewalOut, summary="Renew an order")
async def renew(
    order_id: UUID, body: s.Renew, request: Request, principal: CurrentPrincipal
) -> s.RenewalOut:
    return await _renew(request, principal, {order_id: body.period_months})


@router.post("/renewals", response_model=s.RenewalOut, summary="Renew several orders at once")
async def batch_renew(
    body: s.BatchRenew, request: Request, principal: CurrentPrincipal
) -> s.RenewalOut:
    """The orders ticked in the batch column, renewed through one invoice."""
    periods = {item.order_id: item.period_months for item in body.items}
    if len(periods) != len(body.items):
        raise InvalidField("items", "each order may appear once in a renewal")
    return await _renew(request, principal, periods)


async def _renew(request: Request, principal: Principal, periods: dict[UUID, int]) -> s.RenewalOut:
    async with unit_of_work(request, principal) as (work, ctx):
        lines = await handlers.renew(work, ctx, periods)
    currency = lines[0].currency
    return s.RenewalOut(
        items=[
            s.RenewalLineOut(
                order_id=line.order_id,
                service_name=line.service_name,
                plan=line.plan,
                period_months=line.period_months,
                price=s.money(line.price, line.currency),
            )
            for line in lines
        ],
        total=s.money(sum((line.price for line in lines), start=lines[0].price * 0), currency),
    )


def _customer(principal: Principal) -> CustomerRef:
    # The order's notices are mailed to this address: no order without one (a made-up address
    # would reach nobody).
    email = principal.required_email("Placing an order")
    return CustomerRef(principal.id, principal.name, email, principal.locale)


# --- staff ------------------------------------------------------------------------------------


@router.post("/{order_id}/hold", response_model=s.OrderDetail, summary="Hold a pending order")
async def hold(
    order_id: UUID, body: s.HoldOrder, request: Request, principal: StaffPrincipal
) -> s.OrderDetail:
    return await _change(
        request,
        principal,
        lambda w, c: handlers.hold(w, c, order_id, reason=body.reason, remind_at=body.remind_at),
    )


@router.post("/{order_id}/release", response_model=s.OrderDetail, summary="Release a held order")
async def release(order_id: UUID, request: Request, principal: StaffPrincipal) -> s.OrderDetail:
    return await _change(request, principal, lambda w, c: handlers.release(w, c, order_id))


@router.post("/{order_id}/complete", response_model=s.OrderDetail, summary="Complete (deliver)")
async def complete(
    order_id: UUID, body: s.CompleteOrder, request: Request, principal: StaffPrincipal
) -> s.OrderDetail:
    return await _change(
        request,
        principal,
        lambda w, c: handlers.complete(
            w,
            c,
            order_id,
            contract=body.contract,
            starts_on=body.starts_on,
            main_ip=str(body.main_ip),
        ),
    )


@router.post("/{order_id}/suspend", response_model=s.OrderDetail, summary="Suspend for violation")
async def suspend(
    order_id: UUID, body: s.Suspend, request: Request, principal: StaffPrincipal
) -> s.OrderDetail:
    return await _change(
        request,
        principal,
        lambda w, c: handlers.suspend_for_violation(
            w, c, order_id, case_id=body.case_id, reason=body.reason
        ),
    )


@router.post("/{order_id}/lift", response_model=s.OrderDetail, summary="Lift a violation")
async def lift(
    order_id: UUID, body: s.Lift, request: Request, principal: StaffPrincipal
) -> s.OrderDetail:
    return await _change(
        request,
        principal,
        lambda w, c: handlers.lift_violation(
            w, c, order_id, case_id=body.case_id, reason=body.reason
        ),
    )
