"""The order list stays on indexes: with enough rows that the planner has a choice (one
customer with 6,000 orders among 60,000), ``EXPLAIN`` of every list query shape must show no
sequential scan of ``orders``. The latency benchmark over HTTP is ``bench/orders_http.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import asyncpg
import pytest
from sqlalchemy.dialects import postgresql

from contracts.orders import OrderStatus
from services.kit.runtime import asyncpg_dsn
from services.orders.queries import OrderFilter, PageRequest, SortKey, list_query
from tests.orders.support import Orders, fill_sql

ROWS = 60_000
BIG = "big-customer"


SHAPES = {
    "customer, newest first": OrderFilter(customer_id=BIG),
    "customer, by status": OrderFilter(customer_id=BIG, statuses=[OrderStatus.PROCESSED]),
    "customer, search": OrderFilter(customer_id=BIG, search="10.0.1"),
    "customer, service name": OrderFilter(customer_id=BIG, service_name="ab1"),
    "customer, comment": OrderFilter(customer_id=BIG, comment="c4ca"),
    "staff, everyone": OrderFilter(),
    "staff, search": OrderFilter(search="c4ca42"),
    "staff, status": OrderFilter(statuses=[OrderStatus.ON_HOLD]),
}


@pytest.fixture(scope="module")
async def filled(orders_service: Orders) -> Orders:
    orders = orders_service
    connection = await asyncpg.connect(asyncpg_dsn(orders.service.database_url))
    try:
        await connection.execute(fill_sql(ROWS, BIG, every=10))
        await connection.execute("ANALYZE orders")
    finally:
        await connection.close()
    return orders


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("sort", list(SortKey))
async def test_no_list_query_scans_the_orders_table(
    filled: Orders, shape: str, sort: SortKey
) -> None:
    query, values = list_query(SHAPES[shape], PageRequest(sort=sort, limit=50), date(2026, 1, 1))
    sql = str(
        query.params(values).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    connection = await asyncpg.connect(asyncpg_dsn(filled.service.database_url))
    try:
        plan = json.loads(await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}"))
    finally:
        await connection.close()
    scans = [node for node in _nodes(plan[0]["Plan"]) if node["Node Type"] == "Seq Scan"]
    assert not [s for s in scans if s.get("Relation Name") == "orders"], json.dumps(plan, indent=1)


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)
