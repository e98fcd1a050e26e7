"""Every SQL statement about support tickets and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier.tables import ticket_messages, tickets

Cursor = tuple[datetime, UUID]


@dataclass(frozen=True)
class NewTicket:
    id: UUID
    customer_id: str
    order_id: UUID | None
    subject: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class NewMessage:
    id: UUID
    ticket_id: UUID
    author_kind: str
    author_id: str
    author_name: str
    body: str
    created_at: datetime


async def add_ticket(session: AsyncConnection, ticket: NewTicket) -> None:
    await session.execute(insert(tickets).values(asdict(ticket)))


async def add_message(session: AsyncConnection, message: NewMessage) -> None:
    await session.execute(insert(ticket_messages).values(asdict(message)))


async def get_ticket(
    session: AsyncConnection, ticket_id: UUID, *, customer_id: str | None
) -> Row[Any] | None:
    """The ticket; with ``customer_id``, only when it is that customer's."""
    query = select(tickets).where(tickets.c.id == ticket_id)
    if customer_id is not None:
        query = query.where(tickets.c.customer_id == customer_id)
    return (await session.execute(query)).first()


async def messages(session: AsyncConnection, ticket_id: UUID) -> Sequence[Row[Any]]:
    query = select(ticket_messages).where(ticket_messages.c.ticket_id == ticket_id)
    order = (ticket_messages.c.created_at, ticket_messages.c.id)
    return (await session.execute(query.order_by(*order))).all()


async def list_tickets(
    session: AsyncConnection, *, customer_id: str | None, after: Cursor | None, limit: int
) -> Sequence[Row[Any]]:
    """Tickets newest first after a keyset cursor; one customer's, or all for staff."""
    query = select(tickets)
    if customer_id is not None:
        query = query.where(tickets.c.customer_id == customer_id)
    if after is not None:
        query = query.where(tuple_(tickets.c.created_at, tickets.c.id) < tuple_(*after))
    query = query.order_by(tickets.c.created_at.desc(), tickets.c.id.desc()).limit(limit)
    return (await session.execute(query)).all()
