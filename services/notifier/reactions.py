"""The notifier's reactions to the events it consumes, each ``reaction(work, event, ctx)``
(those that tell someone also take the ``teller``), and ``subscribe`` binding the topics to
them: keep the order projection, tell the customer what happened, resolve banners whose cause
ended. Each takes the consumer's unit of work and never commits.

An event about an order the projection does not know yet (its ``order.placed`` is late, e.g.
billing's topic was read first) is parked (``services.kit.parking``) and replayed, in arrival
order, right after that ``order.placed`` is applied; a job sends events parked for longer than
``parked_max_age`` to the DLQ of their topic."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy import Row

from contracts import (
    BILLING,
    MONITORING,
    ORDERS,
    IncidentOpened,
    IncidentResolved,
    InvoiceOverdue,
    InvoicePaid,
    InvoiceReminderDue,
    InvoiceVoided,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderHeld,
    OrderHoldReminderDue,
    OrderPlaced,
    OrderReactivated,
    OrderReleased,
    OrderRenewed,
    OrderStatus,
    OrderSuspended,
    SuspensionCause,
    TicketReason,
)
from contracts.envelope import Envelope
from services.kit import parking
from services.kit.context import Context, Reaction
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime
from services.notifier import domain, repository, staff
from services.notifier.domain import NoticeKind
from services.notifier.notices import Teller, tell
from services.notifier.tickets import Author, open_ticket

log = logging.getLogger(__name__)


async def known_order(work: UnitOfWork, event: Envelope[Any], ctx: Context) -> Row[Any] | None:
    """The event's order, locked; ``None`` after parking the event when it is not known yet."""
    assert event.order_id is not None
    order = await repository.get_order(work.session, event.order_id, lock=True)
    if order is None:
        await parking.park(work.session, event, ctx.now)
    return order


async def order_placed(
    work: UnitOfWork, event: OrderPlaced, ctx: Context, *, teller: Teller
) -> None:
    customer = event.data.customer
    await repository.add_order(
        work.session,
        order_id=event.order_id,
        customer_id=customer.id,
        customer_name=customer.name,
        email=str(customer.email),
        locale=customer.locale,
        service_name=event.data.service_name,
    )
    reactions = bound(teller)
    for parked in await parking.take(work.session, event.order_id):
        await reactions[type(parked)](work, parked, Context.of_event(parked, ctx.now))


async def order_accepted(
    work: UnitOfWork, event: OrderAccepted, ctx: Context, *, teller: Teller
) -> None:
    """Acceptance: a mail, an info banner until delivery, and a ticket confirming it."""
    if (order := await known_order(work, event, ctx)) is None:
        return
    await repository.update_order(work.session, event.order_id, status=OrderStatus.IN_PROGRESS)
    now = ctx.now
    notice = domain.acceptance_notice(event.order_id, event.event_id)
    await tell(work, teller, order, notice, now=now)
    texts = {"locale": order.locale, "service": order.service_name}
    await open_ticket(
        work,
        customer_id=order.customer_id,
        order_id=event.order_id,
        subject=teller.renderer.block(NoticeKind.ACCEPTANCE, "ticket_subject", **texts),
        message=teller.renderer.block(NoticeKind.ACCEPTANCE, "ticket_body", **texts),
        reason=TicketReason.ACCEPTANCE,
        author=Author(kind="system", id="notifier", name="Support"),
        now=now,
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
    )


async def order_completed(work: UnitOfWork, event: OrderCompleted, ctx: Context) -> None:
    if await known_order(work, event, ctx) is None:
        return
    data = event.data
    await repository.update_order(
        work.session,
        event.order_id,
        status=OrderStatus.PROCESSED,
        paid_until=data.paid_until,
        main_ip=str(data.main_ip),
    )
    await repository.resolve_banners(
        work.session, [domain.acceptance_cause(event.order_id)], ctx.now
    )


async def order_suspended(
    work: UnitOfWork, event: OrderSuspended, ctx: Context, *, teller: Teller
) -> None:
    """A cause of suspension began: its own critical banner, until that cause ends."""
    if (order := await known_order(work, event, ctx)) is None:
        return
    data = event.data
    status = domain.status_after_suspension(data.cause, data.status)
    await repository.update_order(work.session, event.order_id, status=status)
    notice = domain.suspension_notice(
        event.order_id,
        event.event_id,
        violation=data.cause is SuspensionCause.VIOLATION,
        ref=_cause_ref(event),
    )
    await tell(work, teller, order, notice, now=ctx.now, reason=data.reason)


async def order_reactivated(work: UnitOfWork, event: OrderReactivated, ctx: Context) -> None:
    """A cause of suspension ended: its banner goes; those of causes that remain stay."""
    if await known_order(work, event, ctx) is None:
        return
    data, now = event.data, ctx.now
    status = domain.status_after_lift(data.status)
    await repository.update_order(work.session, event.order_id, status=status)
    if (ref := _cause_ref(event)) is not None:
        cause = domain.suspension_cause(event.order_id, data.cause, ref)
        await repository.resolve_banners(work.session, [cause], now)
    else:  # no case named: every violation case was lifted
        prefix = domain.suspension_causes(event.order_id) + f"{data.cause}:"
        await repository.resolve_banners_starting(work.session, prefix, now)
    ended = [domain.invoice_cause(data.invoice_id)] if data.invoice_id else []
    if status is OrderStatus.PROCESSED:
        ended.append(domain.legacy_suspension_cause(event.order_id))
    await repository.resolve_banners(work.session, ended, now)


def _cause_ref(event: OrderSuspended | OrderReactivated) -> str | None:
    """What tells this cause apart from the order's others: its invoice or its case."""
    data = event.data
    ref = data.invoice_id if data.cause is SuspensionCause.NON_PAYMENT else data.case_id
    return None if ref is None else str(ref)


async def order_cancelled(
    work: UnitOfWork, event: OrderCancelled, ctx: Context, *, teller: Teller
) -> None:
    """The order ended: its other banners go, one saying it is cancelled comes."""
    if (order := await known_order(work, event, ctx)) is None:
        return
    now = ctx.now
    await repository.update_order(work.session, event.order_id, status=OrderStatus.CANCELLED)
    ended = [
        domain.acceptance_cause(event.order_id),
        domain.legacy_suspension_cause(event.order_id),
        domain.renewal_cause(event.order_id),
    ]
    await repository.resolve_banners(work.session, ended, now)
    await repository.resolve_banners_starting(
        work.session, domain.suspension_causes(event.order_id), now
    )
    notice = domain.cancellation_notice(event.order_id, event.event_id)
    await tell(work, teller, order, notice, now=now, reason=event.data.reason)


async def order_renewed(work: UnitOfWork, event: OrderRenewed, ctx: Context) -> None:
    if await known_order(work, event, ctx) is None:
        return
    await repository.update_order(work.session, event.order_id, paid_until=event.data.paid_until)
    causes = [domain.renewal_cause(event.order_id), domain.invoice_cause(event.data.invoice_id)]
    await repository.resolve_banners(work.session, causes, ctx.now)


async def order_held(work: UnitOfWork, event: OrderHeld, ctx: Context) -> None:
    if await known_order(work, event, ctx) is not None:
        await repository.update_order(work.session, event.order_id, status=OrderStatus.ON_HOLD)


async def order_hold_reminder_due(
    work: UnitOfWork, event: OrderHoldReminderDue, ctx: Context, *, teller: Teller
) -> None:
    """Staff are told: the one who held the order, and the queue (``staff``)."""
    if (order := await known_order(work, event, ctx)) is not None:
        await staff.remind_of_hold(work, teller, order, event, ctx.now)


async def order_released(work: UnitOfWork, event: OrderReleased, ctx: Context) -> None:
    if await known_order(work, event, ctx) is not None:
        await repository.update_order(work.session, event.order_id, status=event.data.back_to)


async def invoice_overdue(
    work: UnitOfWork, event: InvoiceOverdue, ctx: Context, *, teller: Teller
) -> None:
    """An overdue invoice is told once, about its first order (the one it is keyed by)."""
    data = event.data
    notice = domain.overdue_notice(
        event.order_id, data.invoice_id, event.event_id, stage=data.stage.value
    )
    if notice is None or (order := await known_order(work, event, ctx)) is None:
        return
    values = {"invoice_number": data.number, "due_on": data.due_on.isoformat()}
    await tell(work, teller, order, notice, now=ctx.now, **values)


async def invoice_reminder_due(
    work: UnitOfWork, event: InvoiceReminderDue, ctx: Context, *, teller: Teller
) -> None:
    """A payment reminder is told once per invoice and offset, about the invoice's first order.

    For an order whose paid period ends on the due date it is also the renewal reminder's
    thing to do (``domain.same_thing``): its banner takes the renewal reminder's place, no
    renewal reminder follows for that date, and it is not mailed again on a day a renewal
    reminder for that date was."""
    if (order := await known_order(work, event, ctx)) is None:
        return
    data, now = event.data, ctx.now
    await repository.note_invoice_due(work.session, data.order_ids, data.due_on, data.invoice_id)
    notice = domain.invoice_reminder_notice(event.order_id, data.invoice_id, data.offset_days)
    if domain.same_thing(order.paid_until, data.due_on):
        await repository.resolve_banners(work.session, [domain.renewal_cause(order.order_id)], now)
        if await repository.reminded_on(work.session, order.order_id, data.due_on, now.date()):
            notice = replace(notice, email=False)
    values = {
        "invoice_number": data.number,
        "due_on": data.due_on.isoformat(),
        "past_due": data.offset_days > 0,
        "total": f"{data.total.amount} {data.total.currency}",
    }
    await tell(work, teller, order, notice, now=now, **values)


async def invoice_settled(
    work: UnitOfWork, event: InvoicePaid | InvoiceVoided, ctx: Context
) -> None:
    """A paid or voided invoice is no longer overdue: its banners resolve."""
    causes = [domain.invoice_cause(event.data.invoice_id)]
    await repository.resolve_banners(work.session, causes, ctx.now)


async def incident_opened(
    work: UnitOfWork, event: IncidentOpened, ctx: Context, *, teller: Teller
) -> None:
    """An incident names its order, or the main IP of the order(s) it hits."""
    if event.order_id is not None:
        order = await known_order(work, event, ctx)
        affected = [order] if order is not None else []
    else:
        affected = list(await repository.orders_by_ip(work.session, str(event.data.main_ip)))
        if not affected:
            log.info("incident %s names no order of ours", event.data.incident_id)
    for order in affected:
        notice = domain.incident_notice(
            order.order_id, event.data.incident_id, severity=event.data.severity.value
        )
        await tell(work, teller, order, notice, now=ctx.now, summary=event.data.summary)


async def incident_resolved(work: UnitOfWork, event: IncidentResolved, ctx: Context) -> None:
    causes = [domain.incident_cause(event.data.incident_id)]
    await repository.resolve_banners(work.session, causes, ctx.now)


def bound(teller: Teller) -> dict[type[Envelope[Any]], Reaction]:
    """Every event the notifier acts on and its reaction, telling customers through ``teller``."""
    return {
        OrderPlaced: partial(order_placed, teller=teller),
        OrderAccepted: partial(order_accepted, teller=teller),
        OrderCompleted: order_completed,
        OrderSuspended: partial(order_suspended, teller=teller),
        OrderReactivated: order_reactivated,
        OrderCancelled: partial(order_cancelled, teller=teller),
        OrderRenewed: order_renewed,
        OrderHeld: order_held,
        OrderHoldReminderDue: partial(order_hold_reminder_due, teller=teller),
        OrderReleased: order_released,
        InvoiceOverdue: partial(invoice_overdue, teller=teller),
        InvoiceReminderDue: partial(invoice_reminder_due, teller=teller),
        InvoicePaid: invoice_settled,
        InvoiceVoided: invoice_settled,
        IncidentOpened: partial(incident_opened, teller=teller),
        IncidentResolved: incident_resolved,
    }


def subscribe(runtime: Runtime, teller: Teller) -> None:
    """Bind the topics the notifier reads to its reactions. The abuse desk's events are not
    read: their effect reaches the customer as ``order.suspended`` and ``order.reactivated``."""
    reactions = bound(teller)
    for topic in (ORDERS, BILLING, MONITORING):
        wanted = set(topic.models.values())
        runtime.consume(topic, {m: r for m, r in reactions.items() if m in wanted})
