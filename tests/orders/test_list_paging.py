"""Keyset paging, as a property: whatever the orders (NULL paid-until dates, ties in every sort
key), paging through the list by any sort key, in either direction and at any page size, shows
each order exactly once, in the order the sort promises. Random rows go straight into the real
table; the pages are read over HTTP, as the panel reads them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.orders import OrderStatus
from services.orders.tables import orders as orders_table
from tests.apps import bearer
from tests.orders.support import Orders


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    created_at: datetime
    service_name: str
    paid_until: date | None
    status: OrderStatus


# Few distinct values, so that ties (and NULLs) are common.
rows = st.lists(
    st.builds(
        Row,
        id=st.builds(uuid.uuid4),
        created_at=st.sampled_from([datetime(2025, 1, d, tzinfo=UTC) for d in (1, 2, 3)]),
        service_name=st.text(alphabet="ab", min_size=1, max_size=2),
        paid_until=st.none() | st.sampled_from([date(2025, 4, 1), date(2025, 5, 1)]),
        status=st.sampled_from(list(OrderStatus)),
    ),
    max_size=12,
)

#: What each sort promises, ascending: its key, then the id; never-paid orders after the paid.
ASCENDING = {
    "created_at": lambda r: (r.created_at, r.id),
    "service_name": lambda r: (r.service_name, r.id),
    "status": lambda r: (r.status.value, r.id),
    "paid_until": lambda r: (r.paid_until is None, r.paid_until or date.min, r.id),
}


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("sort", list(ASCENDING))
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows, limit=st.integers(min_value=1, max_value=5))
async def test_paging_shows_every_order_once_in_sort_order(
    orders_service: Orders, sort: str, descending: bool, rows: list[Row], limit: int
) -> None:
    me = f"pager-{uuid.uuid4().hex[:10]}"
    await _insert(orders_service, me, rows)
    expected = sorted(rows, key=ASCENDING[sort], reverse=descending)

    seen = await _page_through(orders_service, me, sort=sort, descending=descending, limit=limit)

    assert seen == [str(row.id) for row in expected]


async def _page_through(orders: Orders, customer: str, **params: Any) -> list[str]:
    who, seen, cursor = bearer("customer", customer), [], None
    for _ in range(20):  # more pages than 12 orders can fill: the cursor went round
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await orders.http.get("/orders", params=query, headers=who)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(row["id"] for row in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError(f"the pages never end; seen so far: {seen}")


async def _insert(orders: Orders, customer: str, rows: list[Row]) -> None:
    if not rows:
        return
    values = [
        {
            "id": row.id,
            "created_at": row.created_at,
            "service_name": row.service_name,
            "product": "vps",
            "plan": "vps-s",
            "price": Decimal("4.00"),
            "currency": "EUR",
            "period_months": 1,
            "customer_id": customer,
            "customer_name": customer,
            "customer_email": "pager@example.com",
            "customer_locale": "en",
            "status": row.status.value,
            "paid_until": row.paid_until,
        }
        for row in rows
    ]
    async with orders.service.runtime.database.engine.begin() as connection:
        await connection.execute(orders_table.insert(), values)
