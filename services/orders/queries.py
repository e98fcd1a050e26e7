"""The order list: filters, search, sorting and keyset paging, in SQL fit for the indexes.

A page continues after the last row of the previous one, by ``(sort key, id)``: no offset, so
page 100 costs what page 1 does. The cursor is opaque to clients (base64 of the sort, the
direction and the last row's key, null for a never-paid order); a cursor for another sort is
refused. The cursor's position is compared with the very expression the rows are ordered by,
so NULLs sit in the same place in both.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Select, and_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.orders import OrderStatus
from services.orders.domain import Order
from services.orders.errors import InvalidField
from services.orders.records import order_from_row
from services.orders.tables import NEVER_PAID, PAID_UNTIL_KEY, orders


class SortKey(StrEnum):
    CREATED_AT = "created_at"
    SERVICE_NAME = "service_name"
    PAID_UNTIL = "paid_until"
    STATUS = "status"


#: What each sort orders by (an expression an index is built on); the cursor keeps the column.
_SORT_COLUMNS: dict[SortKey, Any] = {
    SortKey.CREATED_AT: orders.c.created_at,
    SortKey.SERVICE_NAME: orders.c.service_name,
    SortKey.PAID_UNTIL: PAID_UNTIL_KEY,
    SortKey.STATUS: orders.c.status,
}
#: Where a NULL of a nullable sort column sorts (as in its sort expression).
_NULL_KEY: dict[SortKey, Any] = {SortKey.PAID_UNTIL: NEVER_PAID}
#: What a list row shows: not the search text nor the details only the detail view needs.
LIST_COLUMNS = [
    orders.c[name]
    for name in (
        "id", "created_at", "service_name", "product", "plan", "main_ip", "paid_until", "status",
        "price", "currency", "period_months", "comment", "campaign", "invoice_count",
        "scheduled_cancellation", "customer_id", "customer_name",
    )
]  # fmt: skip
_PARSE_KEY: dict[SortKey, Callable[[str], Any]] = {
    SortKey.CREATED_AT: lambda text: _utc(datetime.fromisoformat(text)),
    SortKey.SERVICE_NAME: str,
    SortKey.PAID_UNTIL: date.fromisoformat,
    SortKey.STATUS: str,
}


@dataclass(frozen=True)
class OrderFilter:
    """What the list shows; ``customer_id`` None only for staff looking at every customer."""

    customer_id: str | None = None
    service_name: str | None = None
    statuses: list[OrderStatus] = field(default_factory=list)
    created_from: date | None = None
    created_to: date | None = None
    comment: str | None = None
    order_id: UUID | None = None
    search: str | None = None


@dataclass(frozen=True)
class PageRequest:
    sort: SortKey = SortKey.CREATED_AT
    descending: bool = True
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class Page:
    rows: list[Row[Any]]
    next_cursor: str | None


async def list_orders(session: AsyncSession, where: OrderFilter, page: PageRequest) -> Page:
    """One page of orders matching ``where``, in the requested order."""
    rows = list(await session.execute(list_query(where, page)))
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Page(rows, _encode(rows[-1], page) if more else None)


def list_query(where: OrderFilter, page: PageRequest) -> Select[Any]:
    """The statement of one page (one row more than asked, to know whether more follow)."""
    key = _SORT_COLUMNS[page.sort]
    query = select(*LIST_COLUMNS).where(*_conditions(where))
    if page.cursor is not None:
        position, after = tuple_(key, orders.c.id), _decode(page.cursor, page)
        query = query.where(position < after if page.descending else position > after)
    ordering = (key.desc(), orders.c.id.desc()) if page.descending else (key, orders.c.id)
    return query.order_by(*ordering).limit(page.limit + 1)


async def order_detail(session: AsyncSession, order_id: UUID) -> tuple[Order, int] | None:
    """The order and how many invoices billing issued for it."""
    row = (await session.execute(select(orders).where(orders.c.id == order_id))).one_or_none()
    return None if row is None else (order_from_row(row), row.invoice_count)


def _conditions(where: OrderFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.customer_id is not None:
        conditions.append(orders.c.customer_id == where.customer_id)
    if where.service_name:
        conditions.append(orders.c.service_name.ilike(f"%{_escape(where.service_name)}%"))
    if where.statuses:
        conditions.append(orders.c.status.in_([status.value for status in where.statuses]))
    if where.created_from:
        conditions.append(orders.c.created_at >= _midnight(where.created_from))
    if where.created_to and where.created_to < date.max:  # up to the calendar's end: no bound
        conditions.append(orders.c.created_at < _midnight(where.created_to + timedelta(days=1)))
    if where.comment:
        conditions.append(orders.c.comment.ilike(f"%{_escape(where.comment)}%"))
    if where.order_id:
        conditions.append(orders.c.id == where.order_id)
    if where.search:
        # search_text is lower-cased, so a plain LIKE is case-blind and uses the trigram index.
        conditions.append(orders.c.search_text.like(f"%{_escape(where.search.lower())}%"))
    return [and_(*conditions)] if conditions else []


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _encode(row: Row[Any], page: PageRequest) -> str:
    key = getattr(row, page.sort.value)  # the column itself: None for a never-paid order
    raw = [page.sort.value, page.descending, key.isoformat() if hasattr(key, "isoformat") else key]
    return base64.urlsafe_b64encode(json.dumps([*raw, str(row.id)]).encode()).decode()


def _decode(cursor: str, page: PageRequest) -> Any:
    try:
        sort, descending, key, order_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort != page.sort.value or descending != page.descending:
            raise ValueError("the cursor belongs to another sort order")
        return tuple_(_key_position(key, page.sort), UUID(order_id))
    except (ValueError, TypeError, binascii.Error) as error:
        raise InvalidField("cursor", f"not a cursor of this list ({error})") from error


def _key_position(key: Any, sort: SortKey) -> Any:
    if key is None:
        if sort not in _NULL_KEY:
            raise ValueError(f"{sort.value} is never null")
        return _NULL_KEY[sort]
    if not isinstance(key, str):
        raise TypeError("the cursor's key is not text")
    return _PARSE_KEY[sort](key)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the cursor's time has no offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the cursor's time has no UTC equivalent") from None
