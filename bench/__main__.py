"""Every benchmark in one run, one table: ``make bench`` (``uv run python -m bench``).

The HTTP benchmarks run the services as processes under wrk (bench/orders_http.py) and the
whole system under a steady load of orders (bench/end_to_end.py); the kit's parts are measured
in-process against their ceilings (consumer, outbox relay, journal ingest). All of them share
one PostgreSQL and one Kafka, started here and removed at the end.

    uv run python -m bench [--seconds 10] [--rate 105] [--end-to-end-seconds 60]"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time

from bench import consumer, end_to_end, journal_ingest, orders_http, outbox_relay
from bench.report import Figure, table
from bench.stack import infrastructure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument(
        "--rate", type=float, default=end_to_end.RATE, help="orders a second, end to end"
    )
    parser.add_argument("--end-to-end-seconds", type=float, default=60)
    arguments = parser.parse_args()
    figures: list[Figure] = []
    started = time.monotonic()
    with infrastructure() as stack:
        # The in-process benchmarks take these servers (tests/stack.py) instead of their own.
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = stack.kafka.bootstrap
        os.environ["POSTGRES_ADMIN_URL"] = stack.admin_dsn("postgres")
        # The whole system first, on topics that hold only its own events: the HTTP benchmark
        # leaves thousands of orders' events in orders.events, which the system's consumers
        # would otherwise work through (invoices, journal entries) during its load.
        figures += end_to_end.run(stack, arguments.rate, arguments.end_to_end_seconds)
        figures += orders_http.run(stack, arguments.seconds)
        figures += asyncio.run(consumer.run(20_000))
        figures += asyncio.run(outbox_relay.run(20_000))
        figures += asyncio.run(journal_ingest.run(200, 25))
    print()
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{time.monotonic() - started:.0f} s"
    )
    print(table(figures))


if __name__ == "__main__":
    main()
