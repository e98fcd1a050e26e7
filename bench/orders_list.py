"""Order list latency for a customer with 10,000 orders among 1,000,000: the orders app (FastAPI,
auth, SQLAlchemy, response models) against a ceiling measured in the same run, the same keyset
query through a bare Starlette route on an asyncpg pool; and, for context, the query alone
straight through asyncpg.

    uv run python -m bench.orders_list [--rows 1000000] [--requests 400]

Each request is one page of 50 rows: the first page, then pages by cursor, five deep, over and
over. Budget (ARCHITECTURE.md): ours ÷ ceiling ≥ 0.5 (req/s), p99 ≤ 50 ms."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.kit.logs import configure_logging
from services.kit.runtime import asyncpg_dsn
from tests.apps import bearer, running_service
from tests.orders.support import fill_sql
from tests.stack import servers

CUSTOMER = "big-customer"
PAGE = 50
DEPTH = 5
COLUMNS = (
    "id, created_at, service_name, product, plan, main_ip, paid_until, status, price, currency,"
    " period_months, comment, campaign, invoice_count, customer_id, customer_name"
)
FIRST = (
    f"SELECT {COLUMNS} FROM orders WHERE customer_id = $1 "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)
AFTER = (
    f"SELECT {COLUMNS} FROM orders WHERE customer_id = $1 AND (created_at, id) < ($3, $4) "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)


async def fill(dsn: str, rows: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        # One order in a hundred is the big customer's: 10,000 of 1,000,000.
        await connection.execute(fill_sql(rows, CUSTOMER, every=100))
        await connection.execute("ANALYZE orders")
    finally:
        await connection.close()


Fetch = Callable[[str | None], Awaitable[str | None]]


async def measure(fetch: Fetch, requests: int) -> list[float]:
    """Seconds per request, walking pages ``DEPTH`` deep and starting over."""
    timings, cursor = [], None
    for n in range(requests):
        if n % DEPTH == 0:
            cursor = None
        started = time.perf_counter()
        cursor = await fetch(cursor)
        timings.append(time.perf_counter() - started)
    return timings


def ours(http: httpx.AsyncClient) -> Fetch:
    headers = bearer("customer", CUSTOMER)

    async def fetch(cursor: str | None) -> str | None:
        params = {"limit": PAGE, **({"cursor": cursor} if cursor else {})}
        response = await http.get("/orders", params=params, headers=headers)
        response.raise_for_status()
        return response.json()["next_cursor"]

    return fetch


def ceiling_app(pool: asyncpg.Pool) -> Starlette:
    async def orders(request: Request) -> Response:
        cursor = request.query_params.get("cursor")
        async with pool.acquire() as connection:
            if cursor:
                created_at, order_id = json.loads(cursor)
                rows = await connection.fetch(
                    AFTER, CUSTOMER, PAGE + 1, _ts(created_at), uuid.UUID(order_id)
                )
            else:
                rows = await connection.fetch(FIRST, CUSTOMER, PAGE + 1)
        items = [dict(row) for row in rows[:PAGE]]
        last = items[-1]
        next_cursor = json.dumps([last["created_at"].isoformat(), str(last["id"])])
        body = json.dumps({"items": items, "next_cursor": next_cursor}, default=str)
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/orders", orders)])


def _ts(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


def ceiling(http: httpx.AsyncClient) -> Fetch:
    async def fetch(cursor: str | None) -> str | None:
        response = await http.get("/orders", params={"cursor": cursor} if cursor else {})
        response.raise_for_status()
        return response.json()["next_cursor"]

    return fetch


def direct(pool: asyncpg.Pool) -> Fetch:
    async def fetch(cursor: str | None) -> str | None:
        async with pool.acquire() as connection:
            if cursor:
                created_at, order_id = json.loads(cursor)
                rows = await connection.fetch(
                    AFTER, CUSTOMER, PAGE + 1, _ts(created_at), uuid.UUID(order_id)
                )
            else:
                rows = await connection.fetch(FIRST, CUSTOMER, PAGE + 1)
        last = rows[PAGE - 1]
        return json.dumps([last["created_at"].isoformat(), str(last["id"])])

    return fetch


def summary(name: str, timings: list[float]) -> tuple[float, str]:
    ordered = sorted(timings)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    rate = len(timings) / sum(timings)
    return rate, f"{name}: {rate:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"


async def run(rows: int, requests: int) -> None:
    configure_logging("orders", json=True)  # as the service process runs: JSON, level info
    with servers() as stack:
        async with running_service("orders", stack, prefix=f"b{uuid.uuid4().hex[:8]}.") as svc:
            dsn = asyncpg_dsn(svc.database_url)
            started = time.perf_counter()
            await fill(dsn, rows)
            print(f"filled {rows:,} orders in {time.perf_counter() - started:.0f} s")
            pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4)
            transport = httpx.ASGITransport(app=ceiling_app(pool))
            async with httpx.AsyncClient(transport=transport, base_url="http://bare") as bare:
                for fetch in (ours(svc.http), ceiling(bare), direct(pool)):
                    await measure(fetch, 50)  # warm caches and pools
                mine, line_ours = summary("orders app", await measure(ours(svc.http), requests))
                base, line_base = summary(
                    "Starlette + asyncpg", await measure(ceiling(bare), requests)
                )
                _, line_direct = summary(
                    "asyncpg query alone", await measure(direct(pool), requests)
                )
            await pool.close()
    print(f"order list, {rows // 100:,} orders of one customer among {rows:,}, pages of {PAGE}:")
    for line in (line_ours, line_base, line_direct):
        print("  " + line)
    print(f"  ratio ours / ceiling {mine / base:.2f} (budget >= 0.5, p99 <= 50 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.rows, arguments.requests))
