"""Commands of customers and staff and their handlers, each ``handler(work, command, ctx)``:
dismissing a banner, opening a ticket, replying on one. None commits: the request's unit of
work does."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from contracts import ActorKind, TicketReason
from services.kit.context import Context
from services.kit.db import UnitOfWork
from services.notifier import domain, repository, ticket_repository
from services.notifier.domain import Severity
from services.notifier.errors import BannerNotFound, OrderNotFound, TicketNotFound
from services.notifier.tickets import Author, add_message, open_ticket

# --- the commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DismissBanner:
    banner_id: UUID


@dataclass(frozen=True, slots=True)
class OpenTicket:
    order_id: UUID
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class Reply:
    ticket_id: UUID
    body: str


# --- their handlers ---------------------------------------------------------------------------


async def dismiss_banner(work: UnitOfWork, command: DismissBanner, ctx: Context) -> None:
    """Hide a non-critical banner of the caller's (critical ones stay until resolved)."""
    banner = await repository.get_banner(work.session, command.banner_id, ctx.actor.id)
    if banner is None:
        raise BannerNotFound(f"No banner {command.banner_id}")
    domain.ensure_dismissible(Severity(banner.severity))
    await repository.dismiss_banner(work.session, command.banner_id, ctx.now)


async def open_customer_ticket(work: UnitOfWork, command: OpenTicket, ctx: Context) -> UUID:
    """A customer's ticket about one of their own orders (any other order is not found)."""
    customer = author_of(ctx)
    order = await repository.get_order(work.session, command.order_id)
    if order is None or order.customer_id != customer.id:
        raise OrderNotFound(f"No order {command.order_id}")
    return await open_ticket(
        work,
        customer_id=customer.id,
        order_id=command.order_id,
        subject=command.subject,
        message=command.message,
        reason=TicketReason.CUSTOMER,
        author=customer,
        now=ctx.now,
        correlation_id=ctx.correlation_id,
    )


async def reply(work: UnitOfWork, command: Reply, ctx: Context) -> None:
    """Add a message: staff on any ticket, a customer only on their own."""
    ticket = await ticket_repository.get_ticket(
        work.session, command.ticket_id, customer_id=own(ctx)
    )
    if ticket is None:
        raise TicketNotFound(f"No ticket {command.ticket_id}")
    await add_message(work, command.ticket_id, author_of(ctx), command.body, ctx.now)


def author_of(ctx: Context) -> Author:
    actor = ctx.actor
    return Author(kind=actor.kind.value, id=actor.id, name=actor.name)


def own(ctx: Context) -> str | None:
    """Whose tickets the caller may see: all (None) for staff, else their own."""
    return None if ctx.actor.kind is ActorKind.STAFF else ctx.actor.id
