"""Each of the four services, as the process manager starts it: migrations applied to its own
database, the app's lifespan running its broker and relay, health and API documents served."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.audit.app import create_app as audit_app
from services.audit.settings import AuditSettings
from services.billing.app import create_app as billing_app
from services.billing.settings import BillingSettings
from services.kit.migrations import upgrade
from services.notifier.app import create_app as notifier_app
from services.notifier.settings import NotifierSettings
from services.orders.app import create_app as orders_app
from services.orders.settings import OrdersSettings
from tests.stack import Servers

ROOT = Path(__file__).resolve().parents[2]

SERVICES: dict[str, tuple[type[Any], Callable[[Any], FastAPI]]] = {
    "orders": (OrdersSettings, orders_app),
    "billing": (BillingSettings, billing_app),
    "notifier": (NotifierSettings, notifier_app),
    "audit": (AuditSettings, audit_app),
}


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_service_starts_migrated_ready_and_documented(
    name: str, stack: Servers, unique: str
) -> None:
    settings_class, create_app = SERVICES[name]
    url = await stack.create_database(f"{name}_{unique}")
    service_dir = ROOT / "services" / name
    await asyncio.to_thread(upgrade, service_dir, url)
    settings = settings_class(database_url=url, KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap)
    app = create_app(settings)

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        openapi = (await http.get("/openapi.json")).json()
        assert openapi["info"]["title"].lower() == name
        metrics = await http.get("/metrics")
        assert "http_requests_total" in metrics.text
