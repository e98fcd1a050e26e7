"""The orders service over HTTP as users feel it: the service as `make up` runs it (its own
process, uvicorn) under wrk (2 threads, 16 connections, 10 s), beside ceilings served the same
way in the same run on the same PostgreSQL (bench/ceiling.py):

- the list, a page of 50, a customer with 10,000 orders among 200,000 (five pages deep);
- placing an order (the order row and its outbox row in one transaction);
- cancelling at period end (the order's row and an outbox row in one transaction);
- the RSS of the service idle and after the load;
- for the list and placing, the stack's floor: FastAPI declaring what our route declares
  around the ceiling's statements, against the same ceiling (context, no goal).

    uv run python -m bench.orders_http [--seconds 10]"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx

from bench import wrk
from bench.ceiling import OUTBOX_TABLE
from bench.report import Figure, table
from bench.stack import Infrastructure, Served, infrastructure, service, uvicorn_app
from tests.apps import token
from tests.orders.support import fill_sql

CUSTOMER = "big-customer"
CANCELLER = "canceller"
ORDERS, EVERY = 200_000, 20
DEPTH = 5
#: Orders each side may cancel: more than a 10 s run at the ceiling's rate gets through.
CANCELLABLE = 40_000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(pid)


async def fill(dsn: str) -> tuple[list[str], list[str]]:
    """The big customer's orders among everyone's, and two sets of orders one may cancel."""
    ours = [str(uuid.uuid4()) for _ in range(CANCELLABLE)]
    ceiling = [str(uuid.uuid4()) for _ in range(CANCELLABLE)]
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(fill_sql(ORDERS, CUSTOMER, every=EVERY))
        await connection.execute(
            """
INSERT INTO orders (id, created_at, service_name, product, plan, price, currency, period_months,
    customer_id, customer_name, customer_email, customer_locale, status, paid_until,
    accepted_at, main_ip)
SELECT id, now(), 'srv', 'vps', 'vps-s', 4.00, 'EUR', 1, $2, 'Name', 'x@example.com', 'en',
    'processed', date '2031-01-01', now(), '10.9.9.9'
FROM unnest($1::uuid[]) AS id""",
            ours + ceiling,
            CANCELLER,
        )
        await connection.execute(OUTBOX_TABLE)
        # Settled before anything is measured: after a bulk load PostgreSQL's autovacuum (and
        # the first reads, setting hint bits) would take the CPU of whichever side ran first.
        await connection.execute("VACUUM (ANALYZE) orders")
    finally:
        await connection.close()
    return ours, ceiling


def list_paths(url: str, headers: dict[str, str], first: str) -> list[wrk.Request]:
    """The first page and the next ones by cursor, as a client walks them."""
    paths, cursor = [], None
    for _ in range(DEPTH):
        path = first + (f"{'&' if '?' in first else '?'}cursor={cursor}" if cursor else "")
        paths.append(("GET", path, ""))
        answer = httpx.get(url + path, headers=headers, timeout=30)
        answer.raise_for_status()
        cursor = answer.json()["next_cursor"]
        assert len(answer.json()["items"]) == 50
        assert cursor
    return paths


def measure(
    what: str,
    ours: Served,
    ceiling: Served,
    paths: tuple[list[wrk.Request], list[wrk.Request]],
    headers: dict[str, str],
    seconds: int,
    goal: float,
    p99_goal: float | None = None,
    warm: bool = True,
) -> Figure:
    if warm:
        wrk.run(ours.url, paths[0], headers, seconds=2)
        wrk.run(ceiling.url, paths[1], {}, seconds=2)
    mine = wrk.run(ours.url, paths[0], headers, seconds=seconds)
    base = wrk.run(ceiling.url, paths[1], {}, seconds=seconds)
    for name, load in (("ours", mine), ("ceiling", base)):
        if load.failures:
            print(f"{what}, {name}: {load.failures} of {load.requests} failed\n{load.output}")
    return Figure(
        what,
        mine.requests_per_second,
        base.requests_per_second,
        "req/s",
        goal,
        ours_note=f"p50 {mine.p50_ms:.0f} ms, p99 {mine.p99_ms:.0f} ms",
        ceiling_note=f"p99 {base.p99_ms:.0f} ms",
        extra_goal=f"p99 ≤ {p99_goal:.0f} ms" if p99_goal else "",
        extra_met=p99_goal is None or mine.p99_ms <= p99_goal,
    )


def floor(
    what: str,
    framework: Served,
    ceiling: Served,
    paths: tuple[list[wrk.Request], list[wrk.Request]],
    headers: dict[str, str],
    seconds: int,
) -> Figure:
    """FastAPI with the route's declarations around the ceiling's statements, against the
    ceiling: how much of the ratio the framework takes before any code of ours runs."""
    found = measure(
        f"{what}: FastAPI, our route's declarations, the ceiling's statements",
        framework,
        ceiling,
        paths,
        headers,
        seconds,
        0,
    )
    return replace(found, goal=None, context=True)


def run(stack: Infrastructure, seconds: int) -> list[Figure]:
    config = stack.config()
    dsn = config["ORDERS_DATABASE_URL"].replace("+asyncpg", "")
    with (
        service(stack, "orders") as orders,
        uvicorn_app(stack, "ceiling", "bench.ceiling:app", CEILING_DSN=dsn) as ceiling,
        uvicorn_app(stack, "hello", "bench.ceiling:hello") as hello,
        uvicorn_app(stack, "framework", "bench.ceiling:framework", CEILING_DSN=dsn) as framework,
    ):
        time.sleep(5)
        idle = rss_mb(orders.pid)
        ours_ids, ceiling_ids = asyncio.run(fill(stack.admin_dsn("orders")))
        customer = {"Authorization": f"Bearer {token('customer', CUSTOMER)}"}
        lists = (
            list_paths(orders.url, customer, "/orders?limit=50"),
            list_paths(ceiling.url, {}, f"/orders?customer={CUSTOMER}"),
        )
        figures = [
            measure(
                "`GET /orders`, a page of 50 (10,000 orders of 200,000)",
                orders,
                ceiling,
                lists,
                customer,
                seconds,
                0.5,
                p99_goal=50,
            ),
        ]
        # The stack's own floor: FastAPI declaring what our route declares, the same statement.
        bearer = {"Authorization": "Bearer any"}
        figures.append(floor("list", framework, ceiling, (lists[1], lists[1]), bearer, seconds))
        hello_load = wrk.run(hello.url, [("GET", "/healthz", "")], {}, seconds=seconds)
        figures.append(
            Figure(
                "same, against FastAPI's hello world",
                figures[0].ours,
                hello_load.requests_per_second,
                "req/s",
                0.3,
                ceiling_note=f"p99 {hello_load.p99_ms:.0f} ms",
            )
        )
        body = json.dumps({"plan": "vps-s", "period_months": 1})
        place = [("POST", "/orders", body)]
        json_headers = {"Content-Type": "application/json"}
        figures.append(
            measure(
                "`POST /orders` (order + outbox row, one transaction)",
                orders,
                ceiling,
                (place, place),
                {**customer, **json_headers},
                seconds,
                0.5,
                p99_goal=100,
            )
        )
        posting = {**bearer, **json_headers}
        figures.append(floor("placing", framework, ceiling, (place, place), posting, seconds))
        cancel = json.dumps({"at_period_end": True})
        canceller = {"Authorization": f"Bearer {token('customer', CANCELLER)}", **json_headers}
        figures.append(
            measure(
                "`POST /orders/{id}/cancel` at period end",
                orders,
                ceiling,
                (
                    [("POST", f"/orders/{i}/cancel", cancel) for i in ours_ids],
                    [("POST", f"/orders/{i}/cancel", cancel) for i in ceiling_ids],
                ),
                canceller,
                seconds,
                0.5,
                warm=False,
            )
        )
        loaded = rss_mb(orders.pid)
        figures.append(
            Figure(
                "memory: RSS of the orders service, idle / after the load",
                idle,
                None,
                "MB",
                None,
                ours_note=f"after the load {loaded:.0f} MB",
                extra_goal="≤ 120 MB idle, ≤ 200 MB loaded",
                extra_met=idle <= 120 and loaded <= 200,
            )
        )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=wrk.SECONDS)
    arguments = parser.parse_args()
    with infrastructure() as found:
        print(table(run(found, arguments.seconds)))
