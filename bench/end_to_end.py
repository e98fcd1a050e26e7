"""Orders placed per second with the whole system on this machine: the four services as
`make up` runs them, Kafka, PostgreSQL and the SMTP server, each its own process.

Customers place orders over HTTP at a steady rate (105 a second unless told) for 60 s. For
each order its effects must all arrive: billing's invoice, the journal's entry and the
notifier's projection of the order. Reported: the rate the system sustained (orders whose
effects were all complete by the end, divided by the time they took), the backlog of orders
still waiting for a journal entry every 10 s (it must not grow), and the p99 of the time from
the ``201`` to the order's first journal entry. The load starts once a first order has gone
through (every consumer has its partitions).

The goal is 100 orders a second: the load offers 105, since an offered rate is never quite
measured as sustained (the last orders' effects take a moment after the load ends).

    uv run python -m bench.end_to_end [--rate 105] [--seconds 60]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg

from bench.http_client import Client, TransportError
from bench.report import Figure, table
from bench.stack import Infrastructure, Served, infrastructure, service, serving
from tests.apps import token

SERVICES = ("orders", "billing", "notifier", "audit")
CUSTOMERS = 200
#: Orders offered a second: the goal's 100, and a margin (see above).
RATE = 105.0
#: How long the effects may take to arrive after the last order before the run gives up.
DRAIN_SECONDS = 120


@dataclass
class Placed:
    """When each order was answered ``201`` (wall clock), and the requests that failed."""

    at: dict[uuid.UUID, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def place_orders(url: str, rate: float, seconds: float) -> Placed:
    """Orders at ``rate`` a second for ``seconds``, each by one of ``CUSTOMERS`` customers."""
    placed = Placed()
    headers = [
        {"Authorization": f"Bearer {token('customer', f'load-{n}')}"} for n in range(CUSTOMERS)
    ]
    body = json.dumps({"plan": "vps-s", "period_months": 1}).encode()
    http = Client(url, connections=64)

    async def one(n: int) -> None:
        # As a careful client does: a key of its own, and the same request again when the
        # connection breaks (the key makes a retry place the order once).
        sent = {**headers[n % CUSTOMERS], "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(3):
            try:
                status, answer = await http.post("/orders", body, sent)
                break
            except TransportError as error:
                if attempt == 2:
                    placed.failures.append(repr(error))
                    return
        if status != 201:
            placed.failures.append(f"{status} {answer[:200]!r}")
            return
        placed.at[uuid.UUID(json.loads(answer)["id"])] = time.time()

    started, tasks = time.monotonic(), []
    try:
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    finally:
        http.close()
    return placed


def complete_in(found: dict[str, dict[uuid.UUID, float]], order: uuid.UUID) -> bool:
    """Whether every service shows the order's effect (``found``: from :func:`completed`)."""
    return all(order in effects for effects in found.values())


async def completed(stack: Infrastructure) -> dict[str, dict[uuid.UUID, float]]:
    """Per service, the orders whose effect is there (with the journal's first entry time)."""
    found: dict[str, dict[uuid.UUID, float]] = {}
    queries = {
        "billing": "SELECT DISTINCT order_id, 0.0 FROM invoice_lines",
        "notifier": "SELECT order_id, 0.0 FROM orders",
        "audit": "SELECT order_id, extract(epoch FROM min(recorded_at))::float8"
        " FROM journal_entries GROUP BY order_id",
    }
    for name, query in queries.items():
        connection = await asyncpg.connect(stack.admin_dsn(name))
        try:
            found[name] = {row[0]: row[1] for row in await connection.fetch(query)}
        finally:
            await connection.close()
    return found


async def load(stack: Infrastructure, orders: Served, rate: float, seconds: float) -> Figure:
    started = time.time()
    placed = await place_orders(orders.url, rate, seconds)
    backlog = await _backlog_during(stack, placed, started, seconds)
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        found = await completed(stack)
        missing = [o for o in placed.at if not complete_in(found, o)]
        if not missing or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    journaled = found["audit"]
    complete = [o for o in placed.at if complete_in(found, o)]
    finished = max((journaled[o] for o in complete), default=started)
    sustained = len(complete) / max(finished - started, seconds)
    delays = sorted(journaled[o] - placed.at[o] for o in complete)
    p99 = statistics.quantiles(delays, n=100)[98] if len(delays) > 1 else float("nan")
    if placed.failures:
        print(f"{len(placed.failures)} requests failed, e.g. {placed.failures[:3]}")
    if missing:
        print(f"{len(missing)} orders still lacked an effect {DRAIN_SECONDS} s after the load")
    return Figure(
        f"end to end: orders placed over HTTP, all effects complete ({rate:.0f}/s offered, "
        f"{seconds:.0f} s)",
        sustained,
        None,
        "orders/s",
        None,
        ours_note=f"p99 201 → journal entry {p99 * 1000:.0f} ms; journal backlog every 10 s: "
        f"{', '.join(map(str, backlog)) or 'none'}; {len(placed.failures)} failed, "
        f"{len(missing)} incomplete",
        extra_goal="100 orders/s sustained, p99 ≤ 1 s",
        extra_met=sustained >= 100 and p99 <= 1.0 and not missing and not placed.failures,
    )


async def _backlog_during(
    stack: Infrastructure, placed: Placed, started: float, seconds: float
) -> list[int]:
    """The journal backlog at every 10 s of the load, from the times the orders were answered
    and journaled (the run's own records, so the sampling does not load the machine)."""
    journaled = (await completed(stack))["audit"]
    marks = [started + t for t in range(10, int(seconds) + 1, 10)]
    return [
        sum(
            1 for order, at in placed.at.items() if at <= mark and journaled.get(order, 1e18) > mark
        )
        for mark in marks
    ]


@contextlib.contextmanager
def system(stack: Infrastructure) -> Iterator[Served]:
    """The SMTP server and the four services; yields the orders service."""
    smtp_port = next(stack.http_ports)
    mail_page = next(stack.http_ports)
    with contextlib.ExitStack() as running:
        command = [sys.executable, "-m", "deploy.smtp", "--port", str(smtp_port)]
        command += ["--http-port", str(mail_page), "--folder", str(stack.folder / "mail")]
        running.enter_context(
            serving("smtp", command, stack.config(), mail_page, stack.folder / "smtp.log", "/")
        )
        served = {
            name: running.enter_context(
                service(stack, name, NOTIFIER_SMTP_PORT=str(smtp_port), SMTP_PORT=str(smtp_port))
            )
            for name in SERVICES
        }
        yield served["orders"]


async def first_order_through(stack: Infrastructure, orders: Served) -> None:
    """Wait until one order has all its effects: every consumer has joined its group and
    been given its partitions (a process answers /readyz before that), so the measured load
    does not start with the system's own start-up."""
    placed = await place_orders(orders.url, 1, 1)
    if not placed.at:
        raise RuntimeError(f"the first order was refused: {placed.failures}")
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        found = await completed(stack)
        if all(complete_in(found, order) for order in placed.at):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"no order went through the system in {DRAIN_SECONDS} s")


async def settle(stack: Infrastructure) -> None:
    """Vacuum the services' databases, so that autovacuum work left by whatever ran before
    (a fill, an earlier run) does not run in the middle of the load."""
    for name in SERVICES:
        connection = await asyncpg.connect(stack.admin_dsn(name))
        try:
            await connection.execute("VACUUM (ANALYZE)")
        finally:
            await connection.close()


def run(stack: Infrastructure, rate: float, seconds: float) -> list[Figure]:
    asyncio.run(settle(stack))
    with system(stack) as orders:
        asyncio.run(first_order_through(stack, orders))
        return [asyncio.run(load(stack, orders, rate, seconds))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args()
    with infrastructure() as found:
        print(table(run(found, arguments.rate, arguments.seconds)))
