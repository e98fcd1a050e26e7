"""Commands of customers and staff and their handlers, each ``handler(work, command, ctx)``.

None of them commits: the request's unit of work does, with the outbox rows they queue. Each
reads the order ``FOR UPDATE`` before changing it, so one order's events leave in order.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from contracts.envelope import ActorKind
from services.kit.context import Context
from services.kit.db import UnitOfWork
from services.orders import reactions, repository
from services.orders.catalogue import Plan, RenewalLine, each_order_once, one_renewal
from services.orders.domain import By, CustomerRef, Order
from services.orders.errors import InvalidField, OrderNotFound
from services.orders.events import Event
from services.orders.outgoing import by_of, customer_of, publish, renewal_requested

_HANDLE_ALPHABET = string.ascii_lowercase + string.digits
_HANDLES = len(_HANDLE_ALPHABET) ** 8


# --- the commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    customer: CustomerRef
    plan_id: str
    period_months: int
    campaign: str | None
    comment: str | None


@dataclass(frozen=True, slots=True)
class ChangeComment:
    order_id: UUID
    comment: str | None


@dataclass(frozen=True, slots=True)
class Cancel:
    order_id: UUID
    at_period_end: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class RevokeCancellation:
    order_id: UUID


@dataclass(frozen=True, slots=True)
class Hold:
    order_id: UUID
    reason: str
    remind_at: datetime


@dataclass(frozen=True, slots=True)
class Release:
    order_id: UUID


@dataclass(frozen=True, slots=True)
class Complete:
    order_id: UUID
    contract: str
    starts_on: date
    main_ip: str


@dataclass(frozen=True, slots=True)
class SuspendForViolation:
    order_id: UUID
    case_id: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class LiftViolation:
    order_id: UUID
    case_id: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Renew:
    """One or several orders, each with the months to renew it for."""

    items: tuple[tuple[UUID, int], ...]


# --- their handlers ---------------------------------------------------------------------------


def service_handle() -> str:
    """A short generated service name such as ``r1z7og44``."""
    number = secrets.randbelow(_HANDLES)  # one draw, not one per character
    return "".join(_HANDLE_ALPHABET[number // 36**place % 36] for place in range(8))


async def place_order(work: UnitOfWork, command: PlaceOrder, ctx: Context) -> Order:
    """A customer orders a plan for a period it allows (``order.placed``)."""
    plan = await repository.get_plan(work.session, command.plan_id)
    if plan is None:
        raise InvalidField("plan", f"there is no tariff plan {command.plan_id!r}")
    order, emitted = Order.place(
        id=uuid.uuid4(),
        now=ctx.now,
        service_name=service_handle(),
        plan=plan,
        period_months=command.period_months,
        customer=command.customer,
        campaign=command.campaign,
        comment=command.comment,
    )
    await repository.insert_order(work.session, order)
    publish(work, ctx, order, emitted)
    return order


async def change_comment(work: UnitOfWork, command: ChangeComment, ctx: Context) -> Order:
    by = by_of(ctx)
    return await act(work, ctx, command.order_id, lambda o: o.change_comment(by, command.comment))


async def cancel(work: UnitOfWork, command: Cancel, ctx: Context) -> Order:
    """Cancel at once, or schedule it for the end of the paid period."""
    by, reason = by_of(ctx), command.reason
    if command.at_period_end:
        return await act(
            work, ctx, command.order_id, lambda o: o.schedule_cancellation(by, ctx.now, reason)
        )
    return await act(work, ctx, command.order_id, lambda o: o.cancel(by, ctx.now, reason))


async def revoke_cancellation(work: UnitOfWork, command: RevokeCancellation, ctx: Context) -> Order:
    by = by_of(ctx)
    return await act(work, ctx, command.order_id, lambda o: o.revoke_cancellation(by))


async def hold(work: UnitOfWork, command: Hold, ctx: Context) -> Order:
    by = by_of(ctx)
    return await act(
        work,
        ctx,
        command.order_id,
        lambda o: o.put_on_hold(by, ctx.now, command.reason, command.remind_at),
    )


async def release(work: UnitOfWork, command: Release, ctx: Context) -> Order:
    """Back to where it was held from; a delivery that came meanwhile is applied now."""
    by = by_of(ctx)
    order = await act(work, ctx, command.order_id, lambda o: o.release(by))
    return await reactions.take_parked(work, order, ctx.now)


async def complete(work: UnitOfWork, command: Complete, ctx: Context) -> Order:
    by = by_of(ctx)
    return await act(
        work,
        ctx,
        command.order_id,
        lambda o: o.complete(
            by,
            ctx.now,
            contract=command.contract,
            starts_on=command.starts_on,
            main_ip=command.main_ip,
        ),
    )


async def suspend_for_violation(
    work: UnitOfWork, command: SuspendForViolation, ctx: Context
) -> Order:
    by = by_of(ctx)
    return await act(
        work,
        ctx,
        command.order_id,
        lambda o: o.suspend_for_violation(by, command.case_id, command.reason),
    )


async def lift_violation(work: UnitOfWork, command: LiftViolation, ctx: Context) -> Order:
    by = by_of(ctx)
    return await act(
        work, ctx, command.order_id, lambda o: o.lift_violation(by, command.case_id, command.reason)
    )


async def renew(work: UnitOfWork, command: Renew, ctx: Context) -> list[RenewalLine]:
    """Renew one or several orders through one invoice: one ``order.renewal_requested``."""
    each_order_once([order_id for order_id, _ in command.items])
    periods = dict(command.items)
    by = by_of(ctx)
    found = {order.id: order for order in await repository.lock_orders(work.session, list(periods))}
    lines = []
    for order_id, months in periods.items():
        order = _visible(found.get(order_id), order_id, by)
        lines.append(order.request_renewal(by, await _plan_of(work, order), months))
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
    found = await repository.get_order(work.session, order_id, lock=True)
    order = _visible(found, order_id, by_of(ctx))
    emitted = change(order)
    await repository.save_order(work.session, order)
    publish(work, ctx, order, emitted)
    return order


def _visible(order: Order | None, order_id: UUID, by: By) -> Order:
    """The order if the actor may see it: a customer only their own (404 otherwise)."""
    if order is None or (by.kind is ActorKind.CUSTOMER and order.customer.id != by.id):
        raise OrderNotFound(order_id)
    return order
