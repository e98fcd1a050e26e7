"""Every SQL statement of the orders service but the order list (``services.orders.queries``).

Orders are read into ``domain.Order`` and written back whole; a handler that changes an order
first reads it ``FOR UPDATE``, so one order's changes (and their outbox rows) are serialised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.kit.db import Reads
from services.kit.statements import Prepared
from services.orders.catalogue import Plan
from services.orders.domain import (
    InvoiceState,
    Order,
)
from services.orders.records import columns_of, order_from_row
from services.orders.tables import customer_views, order_invoices, orders, plans, products

# --- orders -----------------------------------------------------------------------------------


async def get_order(
    session: AsyncConnection, order_id: UUID, *, lock: bool = False
) -> Order | None:
    """The order, or None; ``lock`` takes its row lock until the transaction ends."""
    query = _ORDER_LOCKED if lock else _ORDER
    row = await query.fetchrow(session, {"order_id": order_id})
    return None if row is None else order_from_row(row)


# The hot statements are built once, their values bound at execution: SQLAlchemy finds their
# compiled form by a cache key it computed once (building them per call showed in profiles).
#: One order by id (``order_id``).
ORDER = select(orders).where(orders.c.id == bindparam("order_id"))
# Run by asyncpg itself (``kit.statements``): every action reads its order so.
_ORDER = Prepared(ORDER)
_ORDER_LOCKED = Prepared(ORDER.with_for_update())


async def lock_orders(session: AsyncConnection, order_ids: Sequence[UUID]) -> list[Order]:
    """The orders that exist among ``order_ids``, locked in id order (no deadlock between two
    batches over the same orders)."""
    query = select(orders).where(orders.c.id.in_(order_ids)).order_by(orders.c.id)
    rows = await session.execute(query.with_for_update())
    return [order_from_row(row._mapping) for row in rows]


async def insert_order(session: AsyncConnection, order: Order) -> None:
    await _INSERT_ORDER.insert(session, [{"id": order.id, **columns_of(order)}])


# The hot writes, run by asyncpg itself (``kit.statements``).
_INSERT_ORDER = Prepared(orders.insert())


async def save_order(session: AsyncConnection, order: Order) -> None:
    await _SAVE_ORDER.write(session, {"order_id": order.id, **columns_of(order)})


#: Every column of ``columns_of`` set, from the values given at execution.
_SAVE_ORDER = Prepared(update(orders).where(orders.c.id == bindparam("order_id")))


async def due_reminders(session: AsyncConnection, now: datetime, limit: int) -> list[Order]:
    """Held orders whose reminder is due, locked; a concurrent pass skips them."""
    query = select(orders).where(orders.c.remind_at <= now).order_by(orders.c.remind_at)
    return await _claim(session, query.limit(limit))


async def due_cancellations(session: AsyncConnection, now: datetime, limit: int) -> list[Order]:
    """Orders whose scheduled cancellation is due, locked; a concurrent pass skips them."""
    query = select(orders).where(orders.c.cancel_at <= now).order_by(orders.c.cancel_at)
    return await _claim(session, query.limit(limit))


async def _claim(session: AsyncConnection, query: Any) -> list[Order]:
    rows = await session.execute(query.with_for_update(skip_locked=True))
    return [order_from_row(row._mapping) for row in rows]


# --- invoices known per order -----------------------------------------------------------------


async def note_invoice(session: AsyncConnection, order_id: UUID, invoice_id: UUID) -> None:
    """Count an invoice of an order the first time billing mentions it."""
    first = await session.scalar(
        insert(order_invoices)
        .values(order_id=order_id, invoice_id=invoice_id, state=InvoiceState.ISSUED.value)
        .on_conflict_do_nothing()
        .returning(order_invoices.c.invoice_id)
    )
    if first is not None:
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(invoice_count=orders.c.invoice_count + 1)
        )


async def invoice_state(
    session: AsyncConnection, order_id: UUID, invoice_id: UUID
) -> InvoiceState | None:
    state = await session.scalar(
        select(order_invoices.c.state).where(
            order_invoices.c.order_id == order_id, order_invoices.c.invoice_id == invoice_id
        )
    )
    return None if state is None else InvoiceState(state)


async def set_invoice_state(
    session: AsyncConnection, order_id: UUID, invoice_id: UUID, state: InvoiceState
) -> None:
    await note_invoice(session, order_id, invoice_id)
    await session.execute(
        update(order_invoices)
        .where(order_invoices.c.order_id == order_id, order_invoices.c.invoice_id == invoice_id)
        .values(state=state.value)
    )


# --- catalogue --------------------------------------------------------------------------------


async def get_plan(session: AsyncConnection, plan_id: str) -> Plan | None:
    row = await _PLAN.fetchrow(session, {"plan_id": plan_id})
    return None if row is None else _plan(row)


_PLAN = Prepared(select(plans).where(plans.c.id == bindparam("plan_id")))


async def list_plans(session: AsyncConnection) -> list[tuple[str, str, Plan]]:
    """(product id, product name, plan) for every plan, by product then plan."""
    query = (
        select(products.c.name.label("product_name"), plans)
        .join(products, products.c.id == plans.c.product_id)
        .order_by(plans.c.product_id, plans.c.id)
    )
    rows = await session.execute(query)
    return [(row.product_id, row.product_name, _plan(row._mapping)) for row in rows]


async def product_exists(session: AsyncConnection, product_id: str) -> bool:
    return (
        await session.scalar(select(products.c.id).where(products.c.id == product_id)) is not None
    )


async def save_product(session: AsyncConnection, product_id: str, name: str) -> None:
    statement = insert(products).values(id=product_id, name=name)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["id"], set_={"name": name})
    )


async def save_plan(session: AsyncConnection, plan: Plan) -> None:
    values = {
        "product_id": plan.product,
        "name": plan.name,
        "monthly_price": plan.monthly_price,
        "currency": plan.currency,
        "periods": list(plan.periods),
        "active": plan.active,
    }
    statement = insert(plans).values(id=plan.id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))


def _plan(row: Mapping[Any, Any]) -> Plan:
    return Plan(
        id=row["id"],
        product=row["product_id"],
        name=row["name"],
        monthly_price=row["monthly_price"],
        currency=row["currency"],
        periods=tuple(row["periods"]),
        active=row["active"],
    )


# --- saved views ------------------------------------------------------------------------------


async def get_columns(session: Reads, customer_id: str) -> list[str] | None:
    query = select(customer_views.c.columns).where(customer_views.c.customer_id == customer_id)
    columns = await session.scalar(query)
    return None if columns is None else list(columns)


async def save_columns(session: AsyncConnection, customer_id: str, columns: list[str]) -> None:
    statement = insert(customer_views).values(customer_id=customer_id, columns=columns)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["customer_id"], set_={"columns": columns})
    )
