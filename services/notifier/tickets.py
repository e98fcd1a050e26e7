"""Support tickets: opened on an order's acceptance or by a customer about one of their
orders, read by their customer and by staff, answered by staff (and the customer)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts import Actor, TicketOpened, TicketReason
from contracts.notifier import TicketOpenedData
from services.kit.db import UnitOfWork
from services.notifier import ticket_repository
from services.notifier.errors import TicketNotFound


@dataclass(frozen=True)
class Author:
    """Who writes a ticket message."""

    kind: str
    id: str
    name: str


async def open_ticket(
    work: UnitOfWork,
    *,
    customer_id: str,
    order_id: UUID | None,
    subject: str,
    message: str,
    reason: TicketReason,
    author: Author,
    now: datetime,
    correlation_id: UUID,
    causation_id: UUID | None = None,
) -> UUID:
    """Open a ticket with its first message and publish ``ticket.opened``."""
    ticket_id = uuid.uuid4()
    await ticket_repository.add_ticket(
        work.session,
        ticket_repository.NewTicket(
            id=ticket_id,
            customer_id=customer_id,
            order_id=order_id,
            subject=subject,
            reason=reason.value,
            created_at=now,
        ),
    )
    await add_message(work, ticket_id, author, message, now)
    work.publish(
        TicketOpened(
            occurred_at=now,
            producer=work.producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            actor=Actor(kind=author.kind, id=author.id, name=author.name),
            order_id=order_id,
            data=TicketOpenedData(
                ticket_id=ticket_id, customer_id=customer_id, subject=subject, reason=reason
            ),
        )
    )
    return ticket_id


async def read_ticket(
    work: UnitOfWork, ticket_id: UUID, *, customer_id: str | None
) -> tuple[Any, list[Any]]:
    """The ticket and its messages; ``customer_id`` limits it to that customer's tickets."""
    ticket = await ticket_repository.get_ticket(work.session, ticket_id, customer_id=customer_id)
    if ticket is None:
        raise TicketNotFound(f"No ticket {ticket_id}")
    return ticket, list(await ticket_repository.messages(work.session, ticket_id))


async def add_message(
    work: UnitOfWork, ticket_id: UUID, author: Author, body: str, now: datetime
) -> None:
    await ticket_repository.add_message(
        work.session,
        ticket_repository.NewMessage(
            id=uuid.uuid4(),
            ticket_id=ticket_id,
            author_kind=author.kind,
            author_id=author.id,
            author_name=author.name,
            body=body,
            created_at=now,
        ),
    )


async def list_tickets(
    work: UnitOfWork,
    *,
    customer_id: str | None,
    after: ticket_repository.Cursor | None,
    limit: int,
) -> list[Any]:
    """Tickets newest first: one customer's, or everyone's (``customer_id`` None, staff)."""
    rows = await ticket_repository.list_tickets(
        work.session, customer_id=customer_id, after=after, limit=limit
    )
    return list(rows)
