"""Run a service in the test process the way its ``__main__`` does: its own fresh database
with the migrations applied, its consumers, relay and HTTP app, on the real Kafka and
PostgreSQL of the run. A topic prefix per test keeps tests apart on the shared cluster."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from contracts import ALL_TOPICS
from deploy import roles
from services.kit.auth import mint_token
from services.kit.clock import Clock
from services.kit.kafka import ensure_topics
from services.kit.migrations import upgrade
from services.kit.runtime import Runtime
from services.kit.service import instrument
from services.kit.settings import LOCAL_JWT_SECRET
from tests.stack import APP_ROLE, Servers

ROOT = Path(__file__).resolve().parent.parent


def _factories(name: str) -> tuple[type[Any], Callable[..., FastAPI]]:
    module = __import__(f"services.{name}.app", fromlist=["create_app"])
    settings_module = __import__(f"services.{name}.settings", fromlist=["x"])
    settings_class = next(
        value
        for key, value in vars(settings_module).items()
        if key.endswith("Settings") and key != "ServiceSettings"
    )
    return settings_class, module.create_app


def token(role: str, sub: str, name: str = "", email: str = "", locale: str = "en") -> str:
    """A bearer token the services accept (signed with the local secret)."""
    return mint_token(
        LOCAL_JWT_SECRET,
        sub=sub,
        role=role,
        name=name or sub,
        email=email or f"{sub}@example.com",
        locale=locale,
        ttl=timedelta(hours=1),
    )


def bearer(role: str, sub: str, **claims: str) -> dict[str, str]:
    """Authorization header of a customer, staff member or service."""
    return {"Authorization": f"Bearer {token(role, sub, **claims)}"}


@dataclass
class RunningService:
    app: FastAPI
    http: httpx.AsyncClient
    runtime: Runtime
    settings: Any
    database_url: str


async def prepare_topics(stack: Servers, prefix: str) -> None:
    await ensure_topics(stack.kafka_bootstrap, [prefix + name for name in ALL_TOPICS])


@contextlib.asynccontextmanager
async def running_service(
    name: str,
    stack: Servers,
    *,
    prefix: str,
    clock: Clock | None = None,
    database: str | None = None,
    tracer_provider: TracerProvider | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningService]:
    """One service (``orders``, ``billing``, ``notifier`` or ``audit``) up for a test.

    Jobs do not run in the background: the test moves its clock and runs a pass with
    ``service.runtime.jobs.run_once(name)``. ``database`` reuses a database (a restart).
    ``tracer_provider`` traces the service (as ``OTEL_EXPORTER_OTLP_ENDPOINT`` would, but
    into the test's exporter)."""
    database_given = database is not None
    settings_class, create_app = _factories(name)
    # The audit service runs as deployed: migrated by its owner, serving as its writer login.
    # The others still run as the owner of their database here (tests/e2e runs them all as
    # their own runtime logins).
    as_deployed = name if name == "audit" else None
    database = database or f"{name}_{prefix.strip('.-_')}"
    owner_url = (
        stack.database_url(database, roles.OWNERS[name] if as_deployed else APP_ROLE)
        if database_given
        else await stack.create_database(database, service=as_deployed)
    )
    url = stack.runtime_url(database, name) if as_deployed else owner_url
    await asyncio.to_thread(upgrade, ROOT / "services" / name, owner_url)
    await prepare_topics(stack, prefix)
    settings = settings_class(
        database_url=url,
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap,
        KAFKA_TOPIC_PREFIX=prefix,
        run_jobs=False,
        outbox_poll_interval=timedelta(milliseconds=200),
        **overrides,
    )
    app = create_app(settings, clock=clock)
    if tracer_provider is not None:
        instrument(app, tracer_provider)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield RunningService(app, http, app.state.runtime, settings, url)
