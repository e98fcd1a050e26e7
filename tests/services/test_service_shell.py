"""Each of the four services, as the process manager starts it: migrations applied to its own
database, the app's lifespan running its broker and relay, health and API documents served."""

from __future__ import annotations

import pytest

from tests.apps import running_service
from tests.stack import Servers


@pytest.mark.parametrize("name", ["audit", "billing", "notifier", "orders"])
async def test_service_starts_migrated_ready_and_documented(
    name: str, stack: Servers, unique: str
) -> None:
    async with running_service(name, stack, prefix=f"t{unique}.") as service:
        ready = await service.http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
        assert (await service.http.get("/healthz")).json() == {"status": "ok"}
        openapi = (await service.http.get("/openapi.json")).json()
        assert openapi["info"]["title"].lower() == name
        metrics = await service.http.get("/metrics")
        assert "http_requests_total" in metrics.text
