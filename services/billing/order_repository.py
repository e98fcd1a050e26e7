"""Every SQL statement of billing's view of orders (the projection of ``orders.events``) and of
their automatic renewals. Functions take the unit of work's session; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Row, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.billing import InvoiceKind
from services.billing.domain import (
    BilledOrder,
    BilledOrderStatus,
)
from services.billing.repository import UNPAID_VALUES
from services.billing.tables import (
    auto_renewals,
    invoice_lines,
    invoices,
    orders,
)


async def add_order(session: AsyncConnection, order: BilledOrder) -> bool:
    """Insert the order once; False when billing knew it already (a repeated placement)."""
    inserted = await session.scalar(
        insert(orders)
        .values(
            order_id=order.order_id,
            customer_id=order.customer_id,
            service_name=order.service_name,
            plan=order.plan,
            price=order.price,
            currency=order.currency,
            period_months=order.period_months,
            status=BilledOrderStatus.PLACED.value,
        )
        .on_conflict_do_nothing()
        .returning(orders.c.order_id)
    )
    return inserted is not None


@dataclass(frozen=True)
class OrderChange:
    """What an order's event changes in billing's view of it (``None``: unchanged)."""

    status: BilledOrderStatus | None = None
    paid_until: date | None = None
    ends_at_period_end: bool | None = None


async def update_order(session: AsyncConnection, order_id: UUID, change: OrderChange) -> bool:
    """Change billing's view of an order; False when billing does not know the order."""
    values = {
        name: value
        for name, value in (
            ("status", change.status and change.status.value),
            ("paid_until", change.paid_until),
            ("ends_at_period_end", change.ends_at_period_end),
        )
        if value is not None
    }
    changed = await session.scalar(
        update(orders)
        .where(orders.c.order_id == order_id)
        .values(values)
        .returning(orders.c.order_id)
    )
    return changed is not None


async def renewal_candidates(
    session: AsyncConnection, horizon: date, limit: int
) -> list[BilledOrder]:
    """Active orders paid until ``horizon`` or earlier, without an automatic renewal invoice
    for that paid-until and without an unpaid renewal invoice."""
    claimed = exists().where(
        auto_renewals.c.order_id == orders.c.order_id,
        auto_renewals.c.paid_until == orders.c.paid_until,
    )
    unpaid_renewal = exists().where(
        invoice_lines.c.order_id == orders.c.order_id,
        invoices.c.id == invoice_lines.c.invoice_id,
        invoices.c.kind == InvoiceKind.RENEWAL.value,
        invoices.c.status.in_(UNPAID_VALUES),
    )
    rows = await session.execute(
        select(orders)
        .where(
            orders.c.status == BilledOrderStatus.ACTIVE.value,
            orders.c.ends_at_period_end.is_(False),
            orders.c.paid_until <= horizon,
            ~claimed,
            ~unpaid_renewal,
        )
        .order_by(orders.c.paid_until, orders.c.order_id)
        .limit(limit)
    )
    return [_billed_order(row) for row in rows]


async def claim_auto_renewal(
    session: AsyncConnection, order_id: UUID, paid_until: date, invoice_id: UUID
) -> bool:
    claimed = await session.scalar(
        insert(auto_renewals)
        .values(order_id=order_id, paid_until=paid_until, invoice_id=invoice_id)
        .on_conflict_do_nothing()
        .returning(auto_renewals.c.order_id)
    )
    return claimed is not None


def _billed_order(row: Row[Any]) -> BilledOrder:
    return BilledOrder(
        order_id=row.order_id,
        customer_id=row.customer_id,
        service_name=row.service_name,
        plan=row.plan,
        price=row.price,
        currency=row.currency,
        period_months=row.period_months,
        paid_until=row.paid_until,
    )


async def live_orders_of(session: AsyncConnection, customer_id: str) -> list[UUID]:
    """The customer's orders billing knows that are not cancelled, in a stable order."""
    found: Sequence[UUID] = (
        await session.scalars(
            select(orders.c.order_id)
            .where(
                orders.c.customer_id == customer_id,
                orders.c.status != BilledOrderStatus.CANCELLED.value,
            )
            .order_by(orders.c.order_id)
        )
    ).all()
    return list(found)
