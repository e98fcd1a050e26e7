"""Every SQL statement of the notifier: the order projection, banners, mail intents and
reminders. Tickets have theirs in ``ticket_repository``, parked events ``services.kit.parking``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.orders import OrderStatus
from services.kit.db import Reads
from services.kit.tracing import current_context
from services.notifier.domain import MailStatus
from services.notifier.tables import (
    banners,
    invoice_due_dates,
    mails,
    orders,
    reminders,
    staff_notices,
)

Cursor = tuple[datetime, UUID]

# --- the order projection ---------------------------------------------------------------------


async def add_order(
    session: AsyncConnection,
    *,
    order_id: UUID,
    customer_id: str,
    customer_name: str,
    email: str,
    locale: str,
    service_name: str,
) -> None:
    """Record a placed order (not processed yet); a second ``order.placed`` for it changes
    nothing."""
    values = {
        "order_id": order_id,
        "customer_id": customer_id,
        "customer_name": customer_name,
        "email": email,
        "locale": locale,
        "service_name": service_name,
        "status": OrderStatus.NOT_PROCESSED.value,
    }
    await session.execute(insert(orders).values(values).on_conflict_do_nothing())


async def get_order(
    session: AsyncConnection, order_id: UUID, *, lock: bool = False
) -> Row[Any] | None:
    query = select(orders).where(orders.c.order_id == order_id)
    # Locking the order serialises two replicas applying events about the same order.
    return (await session.execute(query.with_for_update() if lock else query)).first()


async def update_order(
    session: AsyncConnection,
    order_id: UUID,
    *,
    status: OrderStatus | None = None,
    paid_until: date | None = None,
    main_ip: str | None = None,
) -> None:
    """Change the projection of an order: what is given (not ``None``)."""
    values = {
        name: value
        for name, value in (
            ("status", status and status.value),
            ("paid_until", paid_until),
            ("main_ip", main_ip),
        )
        if value is not None
    }
    await session.execute(update(orders).where(orders.c.order_id == order_id).values(values))


async def orders_by_ip(session: AsyncConnection, main_ip: str) -> Sequence[Row[Any]]:
    """The orders whose delivered server has this main IP (cancelled ones aside)."""
    query = select(orders).where(
        orders.c.main_ip == main_ip, orders.c.status != OrderStatus.CANCELLED.value
    )
    return (await session.execute(query)).all()


async def orders_to_remind(session: AsyncConnection, first: date, last: date) -> Sequence[Row[Any]]:
    """Active orders whose paid period ends between ``first`` and ``last``, but not those
    whose end an invoice reminder is telling already (one notice for one thing to do)."""
    told_by_invoice = select(invoice_due_dates.c.order_id).where(
        invoice_due_dates.c.order_id == orders.c.order_id,
        invoice_due_dates.c.due_on == orders.c.paid_until,
    )
    query = select(orders).where(
        orders.c.status == OrderStatus.PROCESSED.value,
        orders.c.paid_until.between(first, last),
        ~told_by_invoice.exists(),
    )
    return (await session.execute(query.order_by(orders.c.paid_until))).all()


# --- banners ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewBanner:
    """A banner to show a customer until its cause ends (or they dismiss it)."""

    id: UUID
    key: str
    cause: str
    customer_id: str
    order_id: UUID
    kind: str
    severity: str
    placement: str
    text: str
    link: str
    created_at: datetime


async def add_banner(session: AsyncConnection, banner: NewBanner) -> bool:
    """Add a banner unless one with its key exists; returns whether it was added."""
    added = await session.scalar(
        insert(banners).values(asdict(banner)).on_conflict_do_nothing().returning(banners.c.id)
    )
    return added is not None


async def resolve_banners(session: AsyncConnection, causes: Sequence[str], now: datetime) -> int:
    """Resolve every active banner of these causes; returns how many."""
    result = await session.execute(
        update(banners)
        .where(banners.c.cause.in_(causes), banners.c.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    return int(result.rowcount or 0)


async def resolve_banners_starting(session: AsyncConnection, prefix: str, now: datetime) -> int:
    """Resolve every active banner whose cause starts with ``prefix``; returns how many."""
    result = await session.execute(
        update(banners)
        .where(banners.c.cause.startswith(prefix, autoescape=True), banners.c.resolved_at.is_(None))
        .values(resolved_at=now)
    )
    return int(result.rowcount or 0)


async def active_banners(
    session: AsyncConnection,
    customer_id: str,
    kinds: Sequence[str],
    *,
    after: Cursor | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """A customer's banners of these kinds on screen, newest first, after a keyset cursor."""
    query = select(banners).where(
        banners.c.customer_id == customer_id,
        banners.c.kind.in_(kinds),
        banners.c.dismissed_at.is_(None),
        banners.c.resolved_at.is_(None),
    )
    if after is not None:
        query = query.where(tuple_(banners.c.created_at, banners.c.id) < tuple_(*after))
    query = query.order_by(banners.c.created_at.desc(), banners.c.id.desc()).limit(limit)
    return (await session.execute(query)).all()


async def get_banner(
    session: AsyncConnection, banner_id: UUID, customer_id: str
) -> Row[Any] | None:
    query = select(banners).where(banners.c.id == banner_id, banners.c.customer_id == customer_id)
    return (await session.execute(query.with_for_update())).first()


async def dismiss_banner(session: AsyncConnection, banner_id: UUID, now: datetime) -> None:
    await session.execute(
        update(banners)
        .where(banners.c.id == banner_id, banners.c.dismissed_at.is_(None))
        .values(dismissed_at=now)
    )


# --- staff notices ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewStaffNotice:
    """A notice for staff: the one concerned (if known) and the queue."""

    id: UUID
    key: str
    kind: str
    order_id: UUID
    staff_id: str | None
    staff_name: str | None
    text: str
    link: str
    due_at: datetime
    created_at: datetime


async def add_staff_notice(session: AsyncConnection, notice: NewStaffNotice) -> bool:
    """Add a staff notice unless one with its key exists; returns whether it was added."""
    added = await session.scalar(
        insert(staff_notices)
        .values(asdict(notice))
        .on_conflict_do_nothing()
        .returning(staff_notices.c.id)
    )
    return added is not None


async def list_staff_notices(
    session: AsyncConnection, staff_id: str | None, *, after: Cursor | None, limit: int
) -> Sequence[Row[Any]]:
    """Staff notices newest first (of one staff member, if given), after a keyset cursor."""
    query = select(staff_notices)
    if staff_id is not None:
        query = query.where(staff_notices.c.staff_id == staff_id)
    if after is not None:
        query = query.where(tuple_(staff_notices.c.created_at, staff_notices.c.id) < tuple_(*after))
    query = query.order_by(staff_notices.c.created_at.desc(), staff_notices.c.id.desc())
    return (await session.execute(query.limit(limit))).all()


# --- mail intents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewMail:
    """A mail to send (the mailer job sends it, retrying as its policy says)."""

    id: UUID
    key: str
    order_id: UUID | None
    kind: str
    recipient: str
    subject: str
    language: str
    text_body: str
    html_body: str
    status: MailStatus
    next_attempt_at: datetime
    created_at: datetime


async def add_mail(session: AsyncConnection, mail: NewMail) -> bool:
    """Record a mail to send unless one with its key exists; returns whether it was added."""
    values = {**asdict(mail), "status": mail.status.value, "trace_context": current_context()}
    added = await session.scalar(
        insert(mails).values(values).on_conflict_do_nothing().returning(mails.c.id)
    )
    return added is not None


async def due_mails(session: AsyncConnection, now: datetime, limit: int) -> Sequence[Row[Any]]:
    """Pending mails whose next attempt is due, locked so no other sender takes them."""
    query = (
        select(mails)
        .where(mails.c.status == MailStatus.PENDING.value, mails.c.next_attempt_at <= now)
        .order_by(mails.c.next_attempt_at, mails.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).all()


async def pending_mails(session: Reads) -> int:
    """How many mails wait to be sent (first try or a retry); read on the partial index."""
    query = select(func.count()).select_from(mails).where(mails.c.status == "pending")
    return int(await session.scalar(query) or 0)


async def update_mail(session: AsyncConnection, mail_id: UUID, **values: Any) -> None:
    await session.execute(update(mails).where(mails.c.id == mail_id).values(**values))


# --- reminders --------------------------------------------------------------------------------


async def note_invoice_due(
    session: AsyncConnection, order_ids: Sequence[UUID], due_on: date, invoice_id: UUID
) -> None:
    """Record that an invoice reminder tells these orders' payment due on ``due_on``."""
    rows = [{"order_id": o, "due_on": due_on, "invoice_id": invoice_id} for o in order_ids]
    await session.execute(insert(invoice_due_dates).values(rows).on_conflict_do_nothing())


async def reminded_on(
    session: AsyncConnection, order_id: UUID, paid_until: date, day: date
) -> bool:
    """Whether a renewal reminder for this order and paid period was sent on ``day``."""
    query = select(reminders.c.sent_at).where(
        reminders.c.order_id == order_id, reminders.c.paid_until == paid_until
    )
    sent: Sequence[datetime] = (await session.scalars(query)).all()
    return any(sent_at.date() == day for sent_at in sent)


async def claim_reminder(
    session: AsyncConnection, *, order_id: UUID, paid_until: date, offset_days: int, now: datetime
) -> bool:
    """Record that this reminder is sent; ``False`` when it already was."""
    claimed = await session.scalar(
        insert(reminders)
        .values(order_id=order_id, paid_until=paid_until, offset_days=offset_days, sent_at=now)
        .on_conflict_do_nothing()
        .returning(reminders.c.order_id)
    )
    return claimed is not None
