"""How every service is assembled and started, the same way for all four.

``service_app`` builds the FastAPI app around a :class:`Runtime` (broker, consumers and relay
start and stop in the app's lifespan); ``serve`` is a service's ``__main__``: wait for the
database, apply the migrations, make sure the topics exist, then run uvicorn."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry

from contracts import ALL_TOPICS
from services.kit.auth import Authenticator
from services.kit.kafka import ensure_topics
from services.kit.logs import configure_logging, get_logger
from services.kit.migrations import upgrade
from services.kit.runtime import Runtime, asyncpg_dsn
from services.kit.settings import ServiceSettings
from services.kit.web import install_kit

log = get_logger(__name__)


def service_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter] = (),
    domain_errors: Mapping[type[Exception], int] | None = None,
    registry: CollectorRegistry,
) -> FastAPI:
    """The service's HTTP app; its lifespan runs the runtime (consumers and relay)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app = FastAPI(title=title, description=description, version="1", lifespan=lifespan)
    app.state.runtime = runtime
    install_kit(
        app,
        authenticator=Authenticator.from_settings(runtime.settings),
        domain_errors=domain_errors,
        checks={"database": runtime.database.ping, "kafka": runtime.kafka_ping},
        registry=registry,
    )
    for router in routers:
        app.include_router(router)
    return app


def asyncapi_document(runtime: Runtime, *, title: str, description: str) -> dict[str, Any]:
    """The AsyncAPI document of a service, generated from its broker's subscribers and
    publishers."""
    runtime.subscribe()
    spec = AsyncAPI(runtime.broker, title=title, description=description, version="1")
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    return document


def wait_for_database(url: str, timeout: float = 120.0) -> None:
    """Block until the service's database accepts connections (it may still be starting)."""

    async def attempt() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
        await connection.close()

    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(attempt())
            return
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            if time.monotonic() > deadline:
                raise
            log.info("waiting_for_database", error=str(error))
            time.sleep(1)


def wait_for_topics(bootstrap: str, prefix: str = "", timeout: float = 180.0) -> None:
    """Block until Kafka answers, creating any missing topic (idempotent across services)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(ensure_topics(bootstrap, [prefix + name for name in ALL_TOPICS]))
            return
        except Exception as error:  # Kafka still starting: any error is worth a retry
            if time.monotonic() > deadline:
                raise
            log.info("waiting_for_kafka", error=str(error))
            time.sleep(1)


def serve(
    settings: ServiceSettings,
    create_app: Callable[[ServiceSettings], FastAPI],
    service_dir: Path,
) -> None:
    """Run one service process: migrations first, then the app (HTTP, consumers, relay)."""
    configure_logging(settings.service_name, json=settings.log_json)
    wait_for_database(settings.database_url)
    upgrade(service_dir, settings.migration_database_url or settings.database_url)
    wait_for_topics(settings.kafka_bootstrap_servers, settings.kafka_topic_prefix)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=15,
    )
