"""HTTP routes of the orders: the list, the detail view and every action on an order.

Each route is one unit of work (the kit's ``Work`` dependency, committed when the route
returns): request model in, command handler, response model out. Who may do what is the
domain's decision (403/409 come from its named errors), and a customer reaching for another
customer's order gets a 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, TypeVar
from uuid import UUID

import pydantic_core
from fastapi import APIRouter, Query
from fastapi.responses import Response

from contracts.orders import OrderStatus
from services.kit.auth import CurrentPrincipal, Principal, StaffPrincipal
from services.kit.context import Context
from services.kit.db import UnitOfWork
from services.kit.problems import PROBLEM_RESPONSES, Forbidden
from services.kit.requests import Ctx, Idempotency, Reading, Work
from services.orders import commands, queries
from services.orders import schemas as s
from services.orders.domain import CustomerRef, Order
from services.orders.errors import OrderNotFound
from services.orders.views import order_detail

router = APIRouter(prefix="/orders", tags=["orders"], responses=PROBLEM_RESPONSES)

C = TypeVar("C")


def _detail(order: Order, ctx: Context) -> s.OrderDetail:
    return order_detail(order, ctx.actor.kind, ctx.now.date())


@router.post("", status_code=201, response_model=s.OrderDetail, summary="Place an order")
async def place_order(
    body: s.PlaceOrder, principal: CurrentPrincipal, work: Work, ctx: Ctx, once: Idempotency
) -> Any:
    """The customer orders a plan for a period it allows; retry safely with `Idempotency-Key`.
    The order's notices are mailed, so the token must carry an `email` claim (403 otherwise)."""
    if not principal.is_customer:
        raise Forbidden("Only a customer places orders, for themselves")
    command = commands.PlaceOrder(
        _customer(principal), body.plan, body.period_months, body.campaign, body.comment
    )

    async def place() -> s.OrderDetail:
        return _detail(await commands.place_order(work, command, ctx), ctx)

    return await once.answer(f"orders:place:{principal.id}", body.model_dump(mode="json"), place)


@router.get("", response_model=s.OrderList, summary="List orders")
async def list_orders(
    principal: CurrentPrincipal,
    reads: Reading,
    ctx: Ctx,
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
    page = await queries.list_orders(reads, where, page_request, ctx.now.date(), principal.id)
    # s.OrderList, its rows as PostgreSQL wrote them (views.list_item).
    listed = (
        f'{{"items":[{",".join(page.items)}],'
        f'"next_cursor":{pydantic_core.to_json(page.next_cursor).decode()},'
        f'"columns":{pydantic_core.to_json(page.columns or []).decode()}}}'
    )
    return Response(listed, media_type="application/json")


@router.get("/{order_id}", response_model=s.OrderDetail, summary="Manage order: the detail")
async def get_order(
    order_id: UUID, principal: CurrentPrincipal, reads: Reading, ctx: Ctx
) -> s.OrderDetail:
    found = await queries.order_detail(reads, order_id)
    if found is None or (principal.is_customer and found.customer.id != principal.id):
        raise OrderNotFound(order_id)
    return _detail(found, ctx)


Command = Callable[[UnitOfWork, C, Context], Awaitable[Order]]


async def _change(work: UnitOfWork, ctx: Context, handler: Command[C], command: C) -> s.OrderDetail:
    """Run a command on one order; answer with the order's detail as it is now (the command
    read it locked, in this transaction: nothing else changed it since)."""
    return _detail(await handler(work, command, ctx), ctx)


@router.put("/{order_id}/comment", response_model=s.OrderDetail, summary="Change the comment")
async def change_comment(
    order_id: UUID, body: s.ChangeComment, _: CurrentPrincipal, work: Work, ctx: Ctx
) -> s.OrderDetail:
    command = commands.ChangeComment(order_id, body.comment)
    return await _change(work, ctx, commands.change_comment, command)


@router.post("/{order_id}/cancel", response_model=s.OrderDetail, summary="Cancel an order")
async def cancel(
    order_id: UUID, body: s.Cancel, _: CurrentPrincipal, work: Work, ctx: Ctx
) -> s.OrderDetail:
    """At once, or at the end of the paid period (`at_period_end`); staff on a customer's behalf."""
    command = commands.Cancel(order_id, body.at_period_end, body.reason)
    return await _change(work, ctx, commands.cancel, command)


@router.post(
    "/{order_id}/revoke-cancellation",
    response_model=s.OrderDetail,
    summary="Revoke a cancellation scheduled for the end of the period",
)
async def revoke_cancellation(
    order_id: UUID, _: CurrentPrincipal, work: Work, ctx: Ctx
) -> s.OrderDetail:
    command = commands.RevokeCancellation(order_id)
    return await _change(work, ctx, commands.revoke_cancellation, command)


@router.post("/{order_id}/renew", response_model=s.RenewalOut, summary="Renew an order")
async def renew(
    order_id: UUID, body: s.Renew, _: CurrentPrincipal, work: Work, ctx: Ctx
) -> s.RenewalOut:
    return await _renew(work, ctx, commands.Renew(((order_id, body.period_months),)))


@router.post("/renewals", response_model=s.RenewalOut, summary="Renew several orders at once")
async def batch_renew(
    body: s.BatchRenew, _: CurrentPrincipal, work: Work, ctx: Ctx
) -> s.RenewalOut:
    """The orders ticked in the batch column, renewed through one invoice."""
    items = tuple((item.order_id, item.period_months) for item in body.items)
    return await _renew(work, ctx, commands.Renew(items))


async def _renew(work: UnitOfWork, ctx: Context, command: commands.Renew) -> s.RenewalOut:
    lines = await commands.renew(work, command, ctx)
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
    order_id: UUID, body: s.HoldOrder, _: StaffPrincipal, work: Work, ctx: Ctx
) -> s.OrderDetail:
    command = commands.Hold(order_id, body.reason, body.remind_at)
    return await _change(work, ctx, commands.hold, command)


@router.post("/{order_id}/release", response_model=s.OrderDetail, summary="Release a held order")
async def release(order_id: UUID, _: StaffPrincipal, work: Work, ctx: Ctx) -> s.OrderDetail:
    return await _change(work, ctx, commands.release, commands.Release(order_id))


@router.post("/{order_id}/complete", response_model=s.OrderDetail, summary="Complete (deliver)")
async def complete(
    order_id: UUID, body: s.CompleteOrder, _: StaffPrincipal, work: Work, ctx: Ctx
) -> s.OrderDetail:
    command = commands.Complete(order_id, body.contract, body.starts_on, str(body.main_ip))
    return await _change(work, ctx, commands.complete, command)


@router.post("/{order_id}/suspend", response_model=s.OrderDetail, summary="Suspend for violation")
async def suspend(
    order_id: UUID, body: s.Suspend, _: StaffPrincipal, work: Work, ctx: Ctx
) -> s.OrderDetail:
    command = commands.SuspendForViolation(order_id, body.case_id, body.reason)
    return await _change(work, ctx, commands.suspend_for_violation, command)


@router.post("/{order_id}/lift", response_model=s.OrderDetail, summary="Lift a violation")
async def lift(
    order_id: UUID, body: s.Lift, _: StaffPrincipal, work: Work, ctx: Ctx
) -> s.OrderDetail:
    command = commands.LiftViolation(order_id, body.case_id, body.reason)
    return await _change(work, ctx, commands.lift_violation, command)
