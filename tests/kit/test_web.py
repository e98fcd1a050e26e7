"""Correlation ids, access log, metrics and health endpoints of a kit-wired app."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
import pytest
import structlog
from fastapi import APIRouter, FastAPI, Request
from prometheus_client import CollectorRegistry

from services.kit.auth import Authenticator
from services.kit.logs import bind_correlation, configure_logging, current_correlation_id
from services.kit.web import Check, health_router, install_kit


async def reachable() -> None:
    pass


async def refused() -> None:
    raise ConnectionRefusedError("connection refused by 127.0.0.1:5432")


async def hanging() -> None:
    await asyncio.Event().wait()


def make_app(checks: Mapping[str, Check]) -> FastAPI:
    app = FastAPI()
    items = APIRouter(prefix="/items")

    @items.get("/{item_id}")
    async def get_item(item_id: str, request: Request) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "state": request.state.correlation_id,
            "logged": current_correlation_id(),
        }

    @items.post("/{item_id}")
    async def change_item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    @items.get("/{item_id}/broken")
    async def broken(item_id: str) -> None:
        raise RuntimeError("bug")

    app.include_router(items, prefix="/v1")
    install_kit(
        app,
        authenticator=Authenticator(audience="order-platform", secret="s" * 32),
        checks=checks,
        registry=CollectorRegistry(),
    )
    return app


async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(make_app({"database": reachable, "kafka": reachable})):
        yield client


async def test_healthz_answers_while_the_process_runs(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_each_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "kafka": "ok"}}


async def test_readyz_names_the_failing_dependency() -> None:
    app = make_app({"database": refused, "kafka": reachable})
    async for client in client_for(app):
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (
        body["detail"] == "database: ConnectionRefusedError: connection refused by 127.0.0.1:5432"
    )
    assert body["checks"]["kafka"] == "ok"


async def test_readyz_gives_up_on_a_check_that_hangs() -> None:
    app = FastAPI()
    app.include_router(health_router({"kafka": hanging}, check_timeout=0.05))
    async for client in client_for(app):
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"kafka": "timed out after 0.05 s"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/v1/items/a")
    await client.get("/v1/items/b")
    await client.get("/nowhere")

    metrics = (await client.get("/metrics")).text

    assert 'http_requests_total{method="GET",route="/v1/items/{item_id}",status="200"} 2.0' in (
        metrics
    )
    assert 'http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in metrics
    assert "http_request_duration_seconds_bucket{" in metrics


async def test_a_given_correlation_id_is_echoed_and_bound(client: httpx.AsyncClient) -> None:
    given = str(uuid.uuid4())

    response = await client.get("/v1/items/a", headers={"X-Correlation-ID": given})

    assert response.headers["x-correlation-id"] == given
    assert response.json()["state"] == response.json()["logged"] == given


@pytest.mark.parametrize("header", [{}, {"X-Correlation-ID": "not-a-uuid"}])
async def test_a_correlation_id_is_made_when_none_usable_is_given(
    client: httpx.AsyncClient, header: dict[str, str]
) -> None:
    response = await client.get("/v1/items/a", headers=header)

    made = response.headers["x-correlation-id"]
    assert str(uuid.UUID(made)) == made
    assert response.json()["state"] == made


async def test_a_server_error_still_carries_the_correlation_id(
    client: httpx.AsyncClient,
) -> None:
    given = str(uuid.uuid4())

    response = await client.get("/v1/items/a/broken", headers={"X-Correlation-ID": given})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-correlation-id"] == given


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


@pytest.mark.usefixtures("restored_logging")
async def test_logs_are_json_lines_with_service_and_correlation(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("orders", json=True)
    given = str(uuid.uuid4())

    await client.get("/v1/items/a", headers={"X-Correlation-ID": given})
    await client.post("/v1/items/a", headers={"X-Correlation-ID": given})
    with bind_correlation(given, order_id="o-1"):
        logging.getLogger("aiokafka").warning("library says %s", "hello")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    access_lines = [line for line in lines if line["event"] == "http_request"]
    assert len(access_lines) == 1, "a successful read is debug detail; a change is logged"
    access = access_lines[0]
    assert access["service"] == "orders"
    assert access["correlation_id"] == given
    assert access["level"] == "info"
    assert access["timestamp"].endswith("Z")
    assert (access["method"], access["route"], access["status"]) == (
        "POST",
        "/v1/items/{item_id}",
        200,
    )
    assert "duration_ms" in access
    library = next(line for line in lines if line["event"] == "library says hello")
    assert library["service"] == "orders"
    assert library["correlation_id"] == given
    assert library["order_id"] == "o-1"
    assert library["level"] == "warning"
