"""PostgreSQL over TLS, set by the database URL alone (``?sslmode=verify-full&sslrootcert=``),
against a server of the test's own that has ``ssl=on`` and refuses every connection without TLS
(``pg_hba.conf`` has ``hostssl`` lines only): the engine, the migrations, the wait at start and
the relay's ``LISTEN`` all connect, and a certificate the service does not trust or a wrong
password leaves ``/readyz`` not ready, saying why."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from contracts import TOPICS
from deploy import infra
from services.kit.db import connect
from services.kit.kafka import ensure_topics
from services.kit.migrations import upgrade
from services.kit.service import wait_for_database
from services.orders.app import create_app
from services.orders.settings import OrdersSettings
from tests.stack import Servers
from tests.tls import Authority, free_port

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "orders_tls"

# The admin's psql (trust, for the set-up) may skip TLS; everyone else must use it.
PG_HBA = b"""\
host    all  postgres  127.0.0.1/32  trust
hostssl all  all       127.0.0.1/32  scram-sha-256
"""


@dataclass
class TlsPostgres:
    port: int
    trusted_ca: Path
    other_ca: Path

    def url(self, *, password: str = "app", ca: Path | None = None) -> str:
        return (
            f"postgresql+asyncpg://app:{password}@127.0.0.1:{self.port}/{DATABASE}"
            f"?sslmode=verify-full&sslrootcert={ca or self.trusted_ca}"
        )


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[TlsPostgres]:
    folder = Path(tempfile.mkdtemp(prefix="pg-tls-"))
    authority = Authority.create("database-ca")
    server = authority.issue()
    postgres = infra.Postgres(
        folder / "cluster",
        free_port(),
        settings={"ssl": "on", "ssl_cert_file": "server.crt", "ssl_key_file": "server.key"},
    )
    postgres.initialise()
    postgres.write_file("server.crt", server.cert_pem)
    postgres.write_file("server.key", server.key_pem)
    postgres.write_file("pg_hba.conf", PG_HBA)
    process = postgres.start(log=folder / "postgres.log")
    try:
        postgres.ensure_database(DATABASE)
        yield TlsPostgres(
            postgres.port, authority.write(folder), Authority.create("other-ca").write(folder)
        )
    finally:
        infra.stop(process)
        postgres.remove()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.asynccontextmanager
async def orders_on(url: str, stack: Servers) -> AsyncIterator[httpx.AsyncClient]:
    settings = OrdersSettings(
        database_url=url,
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap,
        KAFKA_TOPIC_PREFIX="pgtls.",
        run_jobs=False,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield http


async def _app_connections(tls_postgres: TlsPostgres) -> list[asyncpg.Record]:
    admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{tls_postgres.port}/postgres")
    try:
        return await admin.fetch(
            "SELECT a.query, s.ssl, s.version FROM pg_stat_activity a JOIN pg_stat_ssl s"
            " USING (pid) WHERE a.usename = 'app'"
        )
    finally:
        await admin.close()


async def test_the_server_refuses_plaintext(tls_postgres: TlsPostgres) -> None:
    plain = tls_postgres.url().split("?")[0] + "?sslmode=disable"
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await connect(plain)


async def test_every_path_connects_over_tls(tls_postgres: TlsPostgres, stack: Servers) -> None:
    url = tls_postgres.url()
    await asyncio.to_thread(wait_for_database, url, 30)
    await asyncio.to_thread(upgrade, ROOT / "services" / "orders", url)
    await ensure_topics(stack.kafka_bootstrap, ["pgtls." + name for name in TOPICS])
    async with orders_on(url, stack) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["database"] == "ok"
        listening: list[asyncpg.Record] = []
        for _ in range(100):
            connections = await _app_connections(tls_postgres)
            listening = [c for c in connections if c["query"].startswith("LISTEN")]
            if listening:
                break
            await asyncio.sleep(0.1)
        assert listening, "the relay's LISTEN connection"
        assert connections
        assert all(c["ssl"] for c in connections), connections
        assert {c["version"] for c in connections} <= {"TLSv1.2", "TLSv1.3"}


async def test_an_untrusted_certificate_is_not_ready(
    tls_postgres: TlsPostgres, stack: Servers
) -> None:
    url = tls_postgres.url(ca=tls_postgres.other_ca)
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(wait_for_database, url, 0)
    async with orders_on(url, stack) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert "certificate verify failed" in ready.json()["checks"]["database"]


async def test_a_wrong_password_is_not_ready(tls_postgres: TlsPostgres, stack: Servers) -> None:
    async with orders_on(tls_postgres.url(password="wrong"), stack) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 503
    assert "password authentication failed" in ready.json()["checks"]["database"]
