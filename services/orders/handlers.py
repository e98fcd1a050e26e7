"""Use cases of customers and staff: one function per command, taking the unit of work.

None of them commits: the request's unit of work does, with the outbox rows they queue. Each
reads the order ``FOR UPDATE`` before changing it, so one order's events leave in order.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from contracts.envelope import ActorKind
from services.kit.db import UnitOfWork
from services.orders import reactions, repository
from services.orders.catalogue import InvalidField, Plan, RenewalLine, one_renewal
from services.orders.domain import CustomerRef, Order, OrderNotFound
from services.orders.events import Event
from services.orders.outgoing import Context, customer_of, publish, renewal_requested

_HANDLE_ALPHABET = string.ascii_lowercase + string.digits


def service_handle() -> str:
    """A short generated service name such as ``r1z7og44``."""
    return "".join(secrets.choice(_HANDLE_ALPHABET) for _ in range(8))


async def place_order(
    work: UnitOfWork,
    ctx: Context,
    *,
    customer: CustomerRef,
    plan_id: str,
    period_months: int,
    campaign: str | None,
    comment: str | None,
) -> Order:
    """A customer orders a plan for a period it allows (``order.placed``)."""
    plan = await repository.get_plan(work.session, plan_id)
    if plan is None:
        raise InvalidField("plan", f"there is no tariff plan {plan_id!r}")
    order, emitted = Order.place(
        id=uuid.uuid4(),
        now=ctx.now,
        service_name=service_handle(),
        plan=plan,
        period_months=period_months,
        customer=customer,
        campaign=campaign,
        comment=comment,
    )
    await repository.insert_order(work.session, order)
    publish(work, ctx, order, emitted)
    return order


async def change_comment(
    work: UnitOfWork, ctx: Context, order_id: UUID, comment: str | None
) -> Order:
    return await act(work, ctx, order_id, lambda order: order.change_comment(ctx.by, comment))


async def cancel(
    work: UnitOfWork, ctx: Context, order_id: UUID, *, at_period_end: bool, reason: str | None
) -> Order:
    """Cancel at once, or schedule it for the end of the paid period."""
    if at_period_end:
        return await act(
            work, ctx, order_id, lambda o: o.schedule_cancellation(ctx.by, ctx.now, reason)
        )
    return await act(work, ctx, order_id, lambda o: o.cancel(ctx.by, ctx.now, reason))


async def revoke_cancellation(work: UnitOfWork, ctx: Context, order_id: UUID) -> Order:
    return await act(work, ctx, order_id, lambda order: order.revoke_cancellation(ctx.by))


async def hold(
    work: UnitOfWork, ctx: Context, order_id: UUID, *, reason: str, remind_at: datetime
) -> Order:
    return await act(
        work, ctx, order_id, lambda order: order.put_on_hold(ctx.by, ctx.now, reason, remind_at)
    )


async def release(work: UnitOfWork, ctx: Context, order_id: UUID) -> Order:
    """Back to where it was held from; a delivery that came meanwhile is applied now."""
    order = await act(work, ctx, order_id, lambda order: order.release(ctx.by))
    return await reactions.take_parked(work, order, ctx.now)


async def complete(
    work: UnitOfWork, ctx: Context, order_id: UUID, *, contract: str, starts_on: date, main_ip: str
) -> Order:
    return await act(
        work,
        ctx,
        order_id,
        lambda order: order.complete(
            ctx.by, ctx.now, contract=contract, starts_on=starts_on, main_ip=main_ip
        ),
    )


async def suspend_for_violation(
    work: UnitOfWork, ctx: Context, order_id: UUID, *, case_id: str, reason: str | None
) -> Order:
    return await act(
        work, ctx, order_id, lambda order: order.suspend_for_violation(ctx.by, case_id, reason)
    )


async def lift_violation(
    work: UnitOfWork, ctx: Context, order_id: UUID, *, case_id: str | None, reason: str | None
) -> Order:
    return await act(
        work, ctx, order_id, lambda order: order.lift_violation(ctx.by, case_id, reason)
    )


async def renew(work: UnitOfWork, ctx: Context, periods: dict[UUID, int]) -> list[RenewalLine]:
    """Renew one or several orders through one invoice: one ``order.renewal_requested``."""
    found = {order.id: order for order in await repository.lock_orders(work.session, list(periods))}
    lines = []
    for order_id, months in periods.items():
        order = _visible(found.get(order_id), order_id, ctx)
        lines.append(order.request_renewal(ctx.by, await _plan_of(work, order), months))
    one_renewal(lines)
    first = found[lines[0].order_id]
    work.publish(renewal_requested(uuid.uuid4(), lines, customer_of(first), ctx))
    return lines


async def _plan_of(work: UnitOfWork, order: Order) -> Plan:
    plan = await repository.get_plan(work.session, order.plan)
    if plan is None:  # plans are never deleted; a missing one is a broken catalogue
        raise RuntimeError(f"the plan {order.plan!r} of order {order.id} is gone")
    return plan


# --- the common path --------------------------------------------------------------------------


async def act(
    work: UnitOfWork, ctx: Context, order_id: UUID, change: Callable[[Order], list[Event]]
) -> Order:
    """Lock the order, apply one domain change, save it and queue its events."""
    order = _visible(await repository.get_order(work.session, order_id, lock=True), order_id, ctx)
    emitted = change(order)
    await repository.save_order(work.session, order)
    publish(work, ctx, order, emitted)
    return order


def _visible(order: Order | None, order_id: UUID, ctx: Context) -> Order:
    """The order if the actor may see it: a customer only their own (404 otherwise)."""
    if order is None or (ctx.by.kind is ActorKind.CUSTOMER and order.customer.id != ctx.by.id):
        raise OrderNotFound(order_id)
    return order
