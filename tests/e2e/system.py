"""The whole system for end-to-end tests: the four services as processes, started the way the
process manager starts them (``python -m services.<name>``, configured by environment), on the
run's real Kafka and PostgreSQL, with an SMTP server keeping mail in a folder.

Moving the clock is what the local stack does too: restart the services with a larger
``CLOCK_OFFSET_SECONDS``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from faststream.kafka import KafkaBroker

from contracts import TOPICS, Envelope
from deploy import roles
from deploy.smtp import MailFolder
from services.kit.kafka import make_broker
from tests.apps import ROOT, prepare_topics
from tests.stack import Servers

SERVICES = ("orders", "billing", "notifier", "audit")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def topic_of(event: Envelope[Any]) -> str:
    return next(name for name, topic in TOPICS.items() if topic.knows(event.type, event.version))


@dataclass
class System:
    stack: Servers
    prefix: str
    mail_folder: Path
    smtp_port: int
    #: HTTP port of each process: ``orders`` is the first replica, ``orders#2`` the second.
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    offset: timedelta = timedelta(0)
    logs: Path = field(default_factory=Path)
    replicas: int = 1

    def url(self, process: str) -> str:
        return f"http://127.0.0.1:{self.ports[process]}"

    def names(self) -> list[str]:
        """Every process of the system: each service's replicas, first replica first."""
        return [
            name if replica == 1 else f"{name}#{replica}"
            for replica in range(1, self.replicas + 1)
            for name in SERVICES
        ]

    def now(self) -> datetime:
        """The time the services live in: now, moved by the clock offset."""
        return datetime.now(UTC) + self.offset

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.stack.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": self.prefix,
            "CLOCK_OFFSET_SECONDS": str(self.offset.total_seconds()),
            "NOTIFIER_SMTP_HOST": "127.0.0.1",
            "NOTIFIER_SMTP_PORT": str(self.smtp_port),
            "LOG_JSON": "true",
            # Billing's renewal, dunning and reminder passes lock the same unpaid invoices with
            # SKIP LOCKED: the one that loses the race at start-up finds nothing and waits a
            # whole interval (1 min by default). A short interval keeps a moved clock's
            # effects seconds, not a minute, away.
            "BILLING_JOBS_INTERVAL": "PT3S",
            "PYTHONUNBUFFERED": "1",
        }
        for name in SERVICES:
            # As deployed: each serves as its own login and migrates as its database's owner.
            database = f"{name}_{self.prefix.strip('.')}"
            env[f"{name.upper()}_DATABASE_URL"] = self.stack.runtime_url(database, name)
            env[f"{name.upper()}_MIGRATION_DATABASE_URL"] = self.stack.database_url(
                database, roles.OWNERS[name]
            )
        return env

    def start(self) -> None:
        for name in self.names():
            self.start_one(name)

    def start_one(self, process: str) -> None:
        """(Re)start one process: ``orders``, or a further replica such as ``orders#2``."""
        service = process.partition("#")[0]
        env = {**self.environment(), f"{service.upper()}_HTTP_PORT": str(self.ports[process])}
        log = open(self.log_of(process), "ab")  # noqa: SIM115 - the child's output
        self.processes[process] = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log_of(self, process: str) -> Path:
        return self.logs / f"{process.replace('#', '-')}.log"

    def kill(self, process: str, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` to one process and wait for it to end; returns its exit code."""
        self.processes[process].send_signal(sig)
        return self.processes[process].wait(60)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    async def wait_ready(self, timeout: float = 120, only: list[str] | None = None) -> None:
        async with httpx.AsyncClient(timeout=3) as http:
            for name in only or self.names():
                deadline = asyncio.get_running_loop().time() + timeout
                while True:
                    if self.processes[name].poll() is not None:
                        raise RuntimeError(f"{name} exited: see {self.log_of(name)}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(f"{self.url(name)}/readyz")).status_code == 200:
                            break
                    if asyncio.get_running_loop().time() > deadline:
                        raise TimeoutError(f"{name} not ready")
                    await asyncio.sleep(0.3)

    async def move_clock(self, by: timedelta) -> None:
        """Live ``by`` later: every service restarts with the larger shared clock offset."""
        self.stop()
        self.offset += by
        self.start()
        await self.wait_ready()

    def mails(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.mail_folder.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found


async def create_databases(stack: Servers, prefix: str) -> None:
    for name in SERVICES:
        await stack.create_database(f"{name}_{prefix.strip('.')}", service=name)


@contextlib.asynccontextmanager
async def running_system(
    stack: Servers, prefix: str, folder: Path, replicas: int = 1, ready_timeout: float = 120
) -> AsyncIterator[System]:
    await create_databases(stack, prefix)
    await prepare_topics(stack, prefix)
    mail_folder = folder / "mail"
    smtp_port = free_port()
    smtp = Controller(MailFolder(mail_folder), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    system = System(stack, prefix, mail_folder, smtp_port, logs=folder, replicas=replicas)
    system.ports = {name: free_port() for name in system.names()}
    system.start()
    try:
        await system.wait_ready(timeout=ready_timeout)
        yield system
    finally:
        system.stop()
        smtp.stop()


@contextlib.asynccontextmanager
async def outside_world(system: System) -> AsyncIterator[OutsideWorld]:
    """The other services of the provider (gateway, provisioning, abuse desk, monitoring)."""
    broker = make_broker(system.stack.kafka_bootstrap, client_id="outside-world")
    await broker.connect()
    try:
        yield OutsideWorld(broker, system.prefix)
    finally:
        await broker.stop()


@dataclass
class OutsideWorld:
    broker: KafkaBroker
    prefix: str

    async def send(self, event: Envelope[Any], key: str | None = None) -> None:
        """Publish ``event`` on its topic, keyed by ``key`` or else by its order, if it has one."""
        key = key or (str(event.order_id) if event.order_id else None)
        await self.broker.publish(
            event.model_dump_json().encode(),
            topic=self.prefix + topic_of(event),
            key=key.encode() if key else None,
        )


def logs_of(folder: Path) -> Iterator[str]:
    for path in sorted(folder.glob("*.log")):
        yield f"--- {path.stem} ---\n" + path.read_text()[-3000:]
