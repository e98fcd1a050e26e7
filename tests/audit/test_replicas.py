"""Two replicas consuming together, and a replica killed mid-stream: every event journaled
once, every chain whole."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from faststream.kafka import KafkaBroker

from contracts import Envelope
from services.kit.runtime import asyncpg_dsn
from tests.apps import RunningService, running_service
from tests.audit import events as ev
from tests.audit.conftest import publish, verify
from tests.helpers import eventually
from tests.stack import Servers


def busy_history(order_id: UUID) -> list[Envelope[Any]]:
    """One order's events on four topics, so two replicas append to one order at once."""
    at = ev.T0 + timedelta(minutes=30)
    ip = f"198.51.100.{order_id.int % 250 + 1}"
    return [
        *ev.lifecycle(order_id),
        ev.notified(order_id, at),
        ev.delivered(order_id, at, ip),
        ev.violation(order_id, at),
        ev.notified(order_id, at),
    ]


async def entries_by_order(url: str) -> dict[UUID, int]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT order_id, count(*) AS n, count(DISTINCT event_id) AS events"
            " FROM journal_entries GROUP BY order_id"
        )
    finally:
        await connection.close()
    assert all(row["n"] == row["events"] for row in rows), "an event journaled twice"
    return {row["order_id"]: row["n"] for row in rows}


async def all_journaled(url: str, orders: list[UUID], per_order: int) -> None:
    async def check() -> bool:
        counts = await entries_by_order(url)
        return all(counts.get(order_id) == per_order for order_id in orders)

    await eventually(check, timeout=60)


async def test_two_replicas_keep_every_chain_whole(
    audit: RunningService, kafka: KafkaBroker, prefix: str, stack: Servers
) -> None:
    database = audit.database_url.rsplit("/", 1)[1]
    orders = [uuid4() for _ in range(20)]
    async with running_service("audit", stack, prefix=prefix, database=database) as second:
        for order_id in orders:
            await publish(kafka, prefix, *busy_history(order_id))
        await all_journaled(audit.database_url, orders, 13)
        served = [audit.runtime.metrics.messages, second.runtime.metrics.messages]
        assert all(_applied(counter) > 0 for counter in served), "both replicas took a share"
    for order_id in orders:
        result = await verify(audit, order_id)
        assert (result["status"], result["entries"]) == ("whole", 13)


def _applied(counter: Any) -> float:
    return sum(
        sample.value
        for metric in counter.collect()
        for sample in metric.samples
        if sample.labels.get("outcome") == "applied" and sample.name.endswith("_total")
    )


async def test_replica_killed_mid_stream_journals_each_event_once(
    stack: Servers, kafka: KafkaBroker, prefix: str, writer_role: str
) -> None:
    database = f"audit_kill_{prefix.strip('.')}"
    url = await stack.create_database(database, service="audit")  # the owner's
    orders = [uuid4() for _ in range(40)]
    async with running_service("audit", stack, prefix=prefix, database=url.rsplit("/", 1)[1]):
        pass  # migrations and topics, as a deployment would have them
    for order_id in orders:
        await publish(kafka, prefix, *busy_history(order_id))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.audit",
        env={**os.environ, "AUDIT_DATABASE_URL": stack.runtime_url(database, "audit"),
             "AUDIT_MIGRATION_DATABASE_URL": url, "AUDIT_HTTP_PORT": str(_free_port()),
             "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap, "KAFKA_TOPIC_PREFIX": prefix,
             "LOG_JSON": "false"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await eventually(lambda: _some(url), timeout=60, interval=0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    partial = sum((await entries_by_order(url)).values())
    assert 0 < partial < 13 * len(orders), "killed mid-stream"

    async with running_service("audit", stack, prefix=prefix, database=url.rsplit("/", 1)[1]) as s:
        await all_journaled(url, orders, 13)
        for order_id in orders:
            assert (await verify(s, order_id))["status"] == "whole"


async def _some(url: str) -> bool:
    return sum((await entries_by_order(url)).values()) > 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
