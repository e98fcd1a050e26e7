"""Kafka and PostgreSQL for the test suite, from the first source that is there:

1. ``KAFKA_BOOTSTRAP_SERVERS`` and ``POSTGRES_ADMIN_URL`` in the environment (servers of yours);
2. testcontainers, on hosts where a Docker engine answers;
3. otherwise the real servers from this repository's local stack (``deploy/infra.py``), started
   in a temporary folder on their own ports and stopped at the end of the run."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from deploy import infra, roles

APP_ROLE = "app"


@dataclass
class Servers:
    kafka_bootstrap: str
    #: libpq URL of a superuser, used to create the role and the databases of the tests.
    postgres_admin: str
    postgres_host: str
    postgres_port: int

    def database_url(self, database: str, user: str = APP_ROLE) -> str:
        return (
            f"postgresql+asyncpg://{user}:{user}@{self.postgres_host}:{self.postgres_port}/"
            f"{database}"
        )

    def admin_url(self, database: str) -> str:
        base, _, _ = self.postgres_admin.rpartition("/")
        return f"{base}/{database}"

    async def create_database(self, name: str, service: str | None = None) -> str:
        """A fresh database owned by the app role, with the extensions the services use; for
        a ``service``, set up as deployed (``deploy/roles.py``): owned by the service's
        owner, its runtime login the only other that may connect. Returns the owner's URL."""
        owner = roles.OWNERS[service] if service else APP_ROLE
        admin = await asyncpg.connect(self.postgres_admin)
        try:
            for role in {APP_ROLE, owner, *([roles.RUNTIME[service]] if service else [])}:
                await _once_per_cluster(admin, roles.create_role(role))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}" OWNER {owner}')
            for statement in roles.cluster_statements(service, name) if service else []:
                await admin.execute(statement)
        finally:
            await admin.close()
        database = await asyncpg.connect(self.admin_url(name))
        try:
            statements = roles.database_statements(service) if service else []
            for statement in statements or ["CREATE EXTENSION IF NOT EXISTS pg_trgm"]:
                await database.execute(statement)
        finally:
            await database.close()
        return self.database_url(name, owner)

    async def ensure_role(self, name: str) -> None:
        """A login role as ``deploy/roles.py`` makes them, once."""
        admin = await asyncpg.connect(self.postgres_admin)
        try:
            await _once_per_cluster(admin, roles.create_role(name))
        finally:
            await admin.close()

    def runtime_url(self, database: str, service: str) -> str:
        """The URL a service connects with at run time: its own login, owner of nothing."""
        return self.database_url(database, roles.RUNTIME[service])


async def _once_per_cluster(admin: asyncpg.Connection, statement: str) -> None:
    # Roles are cluster-wide and test runs share the cluster: two creating one at once
    # collide, and the loser finds it there.
    with contextlib.suppress(asyncpg.UniqueViolationError, asyncpg.DuplicateObjectError):
        await admin.execute(statement)


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=10, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    """Kafka and PostgreSQL for one test run (see the module docstring for the order)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("POSTGRES_ADMIN_URL"):
        yield _from_environment()
    elif docker_answers():
        with _from_containers() as found:
            yield found
    else:
        with _from_local_stack() as found:
            yield found


def _from_environment() -> Servers:
    admin = os.environ["POSTGRES_ADMIN_URL"]
    host_port = admin.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    return Servers(os.environ["KAFKA_BOOTSTRAP_SERVERS"], admin, host, int(port or 5432))


@contextlib.contextmanager
def _from_containers() -> Iterator[Servers]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        PostgresContainer("postgres:15", username="postgres", password="postgres") as pg,
        KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka,
    ):
        host = pg.get_container_host_ip()
        port = int(pg.get_exposed_port(5432))
        yield Servers(
            kafka.get_bootstrap_server(),
            f"postgresql://postgres:postgres@{host}:{port}/postgres",
            host,
            port,
        )


@contextlib.contextmanager
def _from_local_stack() -> Iterator[Servers]:
    pg_port = int(os.environ.get("TEST_PG_PORT", "55433"))
    kafka_port = int(os.environ.get("TEST_KAFKA_PORT", "59192"))
    for what, variable, port in (
        ("PostgreSQL", "TEST_PG_PORT", pg_port),
        ("Kafka", "TEST_KAFKA_PORT", kafka_port),
        ("Kafka's controller", "TEST_KAFKA_PORT", kafka_port + 1),
    ):
        if infra.port_taken(port):
            pytest.exit(
                f"port {port} for the tests' {what} is already in use (another test run?): "
                f"stop what listens there, or choose another one: {variable}=<port>",
                returncode=3,
            )
    folder = Path(tempfile.mkdtemp(prefix="order-platform-tests-"))
    postgres = infra.Postgres(folder / "pg", port=pg_port)
    kafka = infra.Kafka(folder / "kafka", port=kafka_port)
    pg_process = postgres.start(log=folder / "postgres.log")
    try:
        kafka_process = kafka.start(log=folder / "kafka.log")
        try:
            yield Servers(
                kafka.bootstrap,
                f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres",
                "127.0.0.1",
                postgres.port,
            )
        finally:
            infra.stop(kafka_process)
    finally:
        infra.stop(pg_process, sig=__import__("signal").SIGINT)
        postgres.remove()
        shutil.rmtree(folder, ignore_errors=True)
