"""The system as `make up` runs it, for the HTTP benchmarks: PostgreSQL and Kafka of the
benchmark's own (in a temporary folder, on ports of its own), and each service or ceiling as a
real process serving HTTP with uvicorn.

    BENCH_PG_PORT (56533), BENCH_KAFKA_PORT (59992), BENCH_HTTP_PORT (18100, and up)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from contracts import ALL_TOPICS
from deploy import infra, stack, up
from services.kit.kafka import ensure_topics


@dataclass
class Infrastructure:
    folder: Path
    postgres: infra.Postgres
    kafka: infra.Kafka
    http_ports: Iterator[int]

    def config(self, **more: str) -> dict[str, str]:
        """The local stack's variables (deploy/local.env), pointed at this infrastructure."""
        environ = {
            **os.environ,
            "PG_PORT": str(self.postgres.port),
            "KAFKA_PORT": str(self.kafka.port),
            **more,
        }
        return {**environ, **up.configuration(environ=environ)}

    def admin_dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres.port}/{database}"


@contextlib.contextmanager
def infrastructure() -> Iterator[Infrastructure]:
    """PostgreSQL with the four services' databases and logins, Kafka with every topic."""
    folder = Path(tempfile.mkdtemp(prefix="order-platform-bench-"))
    postgres = infra.Postgres(folder / "pg", port=int(os.environ.get("BENCH_PG_PORT", "56533")))
    kafka = infra.Kafka(folder / "kafka", port=int(os.environ.get("BENCH_KAFKA_PORT", "59992")))
    first_http = int(os.environ.get("BENCH_HTTP_PORT", "18100"))
    for port in (postgres.port, kafka.port, kafka.port + 1, first_http):
        if infra.port_taken(port):
            sys.exit(f"port {port} is taken: set BENCH_PG_PORT, BENCH_KAFKA_PORT, BENCH_HTTP_PORT")
    pg_process = postgres.start(log=folder / "postgres.log")
    try:
        stack.prepare(postgres)
        kafka_process = kafka.start(log=folder / "kafka.log")
        try:
            asyncio.run(ensure_topics(kafka.bootstrap, ALL_TOPICS))
            yield Infrastructure(folder, postgres, kafka, iter(range(first_http, first_http + 50)))
        finally:
            infra.stop(kafka_process)
    finally:
        infra.stop(pg_process, sig=signal.SIGINT)
        postgres.remove()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Served:
    """A process serving HTTP on 127.0.0.1:port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def serving(
    name: str, command: list[str], env: Mapping[str, str], port: int, log: Path, ready: str
) -> Iterator[Served]:
    """Run ``command`` until the block ends; it is ready when GET ``ready`` answers 200."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, env=dict(env), stdout=out, stderr=out, cwd=infra.ROOT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                tail = log.read_text()[-3000:]
                raise RuntimeError(f"{name} stopped at start; see {log}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not answer {ready} on port {port}; see {log}")
            time.sleep(0.2)
        yield Served(name, process, port)
    finally:
        infra.stop(process, sig=signal.SIGTERM)


def service(
    stack_: Infrastructure, name: str, **env: str
) -> contextlib.AbstractContextManager[Served]:
    """``python -m services.<name>`` as `make up` runs it."""
    port = next(stack_.http_ports)
    config = stack_.config(**{f"{name.upper()}_HTTP_PORT": str(port), **env})
    return serving(
        name,
        [sys.executable, "-m", f"services.{name}"],
        config,
        port,
        stack_.folder / f"{name}.log",
        "/readyz",
    )


def uvicorn_app(
    stack_: Infrastructure, name: str, app: str, **env: str
) -> contextlib.AbstractContextManager[Served]:
    """A ceiling app served by uvicorn the way the services are (one process, uvloop,
    httptools, no access log)."""
    port = next(stack_.http_ports)
    command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"]
    return serving(
        name, command, stack_.config(**env), port, stack_.folder / f"{name}.log", "/healthz"
    )
