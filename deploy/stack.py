"""Entry points of the local stack's infrastructure, run by the process manager
(``deploy/Procfile``): each runs its server in the foreground and stops it on SIGINT/SIGTERM.

    python -m deploy.stack postgres   # the project's cluster, with one database per service
    python -m deploy.stack kafka      # one KRaft node, with every topic and its .dlq twin
    python -m deploy.stack clean      # remove the stack's data (make clean)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from contracts import ALL_TOPICS
from deploy import infra, roles
from services.kit.kafka import ensure_topics

LOCAL = infra.ROOT / ".local"
SERVICES = ("orders", "billing", "notifier", "audit")


def _run_until_signalled(process: subprocess.Popen[bytes], stop_signal: int) -> None:
    """Forward SIGINT/SIGTERM to the server as `stop_signal` and wait for it to finish."""

    def forward(_signum: int, _frame: object) -> None:
        if process.poll() is None:
            os.killpg(process.pid, stop_signal)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    sys.exit(process.wait())


def prepare(server: infra.Postgres) -> None:
    """One database per service, with its owner and its runtime login (deploy/roles.py)."""
    for name in SERVICES:
        # Run at every start, so a cluster made before the roles existed is brought in line.
        for role in (roles.OWNERS[name], roles.RUNTIME[name]):
            server.psql(roles.create_role(role))
        server.ensure_database(name, owner=roles.OWNERS[name])
        for statement in roles.cluster_statements(name, name):
            server.psql(statement)
        for statement in roles.database_statements(name):
            server.psql(statement, database=name)


def postgres() -> None:
    server = infra.Postgres(LOCAL / "pg", port=int(os.environ.get("PG_PORT", "55432")))
    process = server.start()
    prepare(server)
    print(
        f"PostgreSQL ready on 127.0.0.1:{server.port}, databases: {', '.join(SERVICES)}; "
        f"files in {server.data_dir}",
        flush=True,
    )
    _run_until_signalled(process, signal.SIGINT)  # SIGINT: PostgreSQL's fast shutdown


def kafka() -> None:
    server = infra.Kafka(LOCAL / "kafka", port=int(os.environ.get("KAFKA_PORT", "59092")))
    process = server.start()
    asyncio.run(ensure_topics(server.bootstrap, ALL_TOPICS))
    print(
        f"Kafka ready on {server.bootstrap}, topics: {', '.join(sorted(ALL_TOPICS))} (+ .dlq)",
        flush=True,
    )
    _run_until_signalled(process, signal.SIGTERM)


def clean() -> None:
    infra.Postgres(LOCAL / "pg", port=0).remove()
    shutil.rmtree(LOCAL, ignore_errors=True)


if __name__ == "__main__":
    commands = {"postgres": postgres, "kafka": kafka, "clean": clean}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python -m deploy.stack {{{','.join(commands)}}}")
    if sys.argv[1] != "clean":
        Path(LOCAL).mkdir(exist_ok=True)
    commands[sys.argv[1]]()
