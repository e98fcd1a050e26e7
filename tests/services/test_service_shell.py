"""Each of the four services, as the process manager starts it: migrations applied to its own
database, the app's lifespan running its broker and relay, health and API documents served."""

from __future__ import annotations

import asyncio
import sys

import asyncpg
import pytest

from tests.apps import ROOT, running_service
from tests.stack import Servers


@pytest.mark.parametrize("name", ["audit", "billing", "notifier", "orders"])
async def test_service_starts_migrated_ready_and_documented(
    name: str, stack: Servers, unique: str
) -> None:
    async with running_service(name, stack, prefix=f"t{unique}.") as service:
        ready = await service.http.get("/readyz")
        assert ready.status_code == 200, ready.text
        # The notifier also checks that its mail server takes its TLS and login.
        own = {"smtp": "ok"} if name == "notifier" else {}
        assert ready.json()["checks"] == {"database": "ok", "kafka": "ok", **own}
        assert (await service.http.get("/healthz")).json() == {"status": "ok"}
        openapi = (await service.http.get("/openapi.json")).json()
        assert openapi["info"]["title"].lower() == name
        metrics = await service.http.get("/metrics")
        assert "http_requests_total" in metrics.text


@pytest.mark.parametrize("name", ["audit", "billing", "notifier", "orders"])
async def test_replicas_starting_together_migrate_a_new_database_once(
    name: str, stack: Servers, unique: str
) -> None:
    """Two processes of one service start on a new database at the same moment: the second
    waits for the first's migration, finds the schema at head, and both start."""
    url = await stack.create_database(f"m{unique}")
    migrate = (
        "import sys; from pathlib import Path; from services.kit.migrations import upgrade; "
        f"upgrade(Path('services/{name}'), sys.argv[1])"
    )
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", migrate, url, cwd=ROOT, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    errors = [(await replica.communicate())[1].decode() for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0, 0], errors
    database = await asyncpg.connect(stack.admin_url(f"m{unique}"))
    try:
        assert len(await database.fetch("SELECT version_num FROM alembic_version")) == 1
    finally:
        await database.close()
