"""Every SQL statement of payments: booked, failed and unmatched ones. Functions take the unit
of work's session; none commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.tables import (
    payments,
)


@dataclass(frozen=True)
class PaymentRecord:
    """A payment as booked: applied to an invoice, flagged, or a failed attempt."""

    payment_id: str
    outcome: str
    invoice_id: UUID | None
    source: str
    amount: Decimal
    currency: str
    applied: Decimal
    flag_reason: str | None
    received_at: datetime
    note: str | None = None
    recorded_by: str | None = None
    #: Unmatched money staff dealt with by hand (refunded, booked elsewhere): when, who, how.
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


async def add_payment(session: AsyncConnection, payment: PaymentRecord) -> bool:
    """Book a payment once; False when this payment id (and outcome) is booked already."""
    booked = await session.scalar(
        insert(payments)
        .values(**payment.__dict__)
        .on_conflict_do_nothing()
        .returning(payments.c.payment_id)
    )
    return booked is not None


async def payments_of(session: AsyncConnection, invoice_id: UUID) -> list[PaymentRecord]:
    rows = await session.execute(
        select(payments)
        .where(payments.c.invoice_id == invoice_id)
        .order_by(payments.c.received_at, payments.c.payment_id)
    )
    return [PaymentRecord(**row._asdict()) for row in rows]


#: A payment some of whose money went to no invoice, not yet resolved: staff must look at it.
_UNMATCHED = and_(
    payments.c.outcome == "received",
    payments.c.applied < payments.c.amount,
    payments.c.resolved_at.is_(None),
)


async def unmatched_payments(session: AsyncConnection, limit: int) -> list[PaymentRecord]:
    """Received payments not wholly applied to an invoice, newest first."""
    rows = await session.execute(
        select(payments)
        .where(_UNMATCHED)
        .order_by(payments.c.received_at.desc(), payments.c.payment_id)
        .limit(limit)
    )
    return [PaymentRecord(**row._asdict()) for row in rows]


async def resolve_unmatched(
    session: AsyncConnection, payment_id: str, *, by: str, at: datetime, resolution: str
) -> PaymentRecord | None:
    """Mark an unmatched payment as dealt with; None when there is no such unmatched one."""
    row = (
        await session.execute(
            update(payments)
            .where(_UNMATCHED, payments.c.payment_id == payment_id)
            .values(resolved_at=at, resolved_by=by, resolution=resolution)
            .returning(*payments.c)
        )
    ).first()
    return None if row is None else PaymentRecord(**row._asdict())


async def count_unmatched_payments(session: AsyncConnection) -> int:
    counted = await session.scalar(select(func.count()).select_from(payments).where(_UNMATCHED))
    return int(counted or 0)
