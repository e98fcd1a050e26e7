"""How every service is assembled and started, the same way for all four.

A service declares what sets it apart once, as a :class:`ServiceShape` in its ``app.py``;
``ServiceShape.create_app`` builds its runtime and, with ``service_app``, the FastAPI app
around it (broker, consumers and relay start and stop in the app's lifespan); ``serve`` is a
service's ``__main__``: wait for the database, apply the migrations, make sure the topics
exist, then run uvicorn. With
``--migrate-only`` it stops after the migrations (a cluster's Job, once per release)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.specification import AsyncAPI
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from contracts import ALL_TOPICS
from contracts.envelope import Actor, Topic
from services.kit.asyncapi import describe_received
from services.kit.auth import Authenticator
from services.kit.clock import Clock
from services.kit.db import connect
from services.kit.kafka import ensure_topics
from services.kit.logs import configure_logging, get_logger
from services.kit.runtime import Runtime
from services.kit.server_spans import ServerSpans
from services.kit.settings import ServiceSettings
from services.kit.tracing import provider_from_settings
from services.kit.web import Check, install_kit

log = get_logger(__name__)

S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class ServiceShape(Generic[S]):
    """What sets one service apart, declared once in its ``app.py``; every service's app is
    then built the same way (:meth:`create_app`)."""

    title: str
    description: str
    publishes_on: Topic
    routers: Sequence[APIRouter]
    #: Named errors of the domain and their HTTP status (problem+json).
    domain_errors: Mapping[type[Exception], int]
    #: Binds the service's reactions (``reactions.subscribe``) and jobs (``jobs.register``)
    #: to the runtime, and sets on the app what its routes read (``app.state``).
    wire: Callable[[S, Runtime, FastAPI], None]
    #: Who the service acts as for a consumed event (default: the system on behalf of the
    #: event's producer).
    actor: Actor | None = None
    #: Readiness checks of the service's own, beside the database and Kafka.
    checks: Callable[[S], Mapping[str, Check]] | None = None

    def create_app(self, settings: S, clock: Clock | None = None) -> FastAPI:
        """The service's app; tests pass a ``FrozenClock``."""
        registry = CollectorRegistry()
        runtime = Runtime(
            settings,
            publishes_on=self.publishes_on,
            registry=registry,
            clock=clock,
            actor=self.actor,
        )
        app = service_app(
            runtime,
            title=self.title,
            description=self.description,
            routers=self.routers,
            domain_errors=self.domain_errors,
            registry=registry,
            checks=self.checks(settings) if self.checks else None,
        )
        self.wire(settings, runtime, app)
        return app


def service_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter] = (),
    domain_errors: Mapping[type[Exception], int] | None = None,
    registry: CollectorRegistry,
    checks: Mapping[str, Check] | None = None,
) -> FastAPI:
    """The service's HTTP app; its lifespan runs the runtime (consumers and relay).
    ``/readyz`` checks the database and Kafka, and the service's own ``checks``."""

    provider = provider_from_settings(runtime.settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            async with runtime.running():
                yield
        finally:
            if provider is not None:
                provider.shutdown()  # exports the spans still waiting in the batch

    app = FastAPI(title=title, description=description, version="1", lifespan=lifespan)
    app.state.runtime = runtime
    install_kit(
        app,
        authenticator=Authenticator.from_settings(runtime.settings),
        domain_errors=domain_errors,
        checks={"database": runtime.database.ping, "kafka": runtime.kafka_ping, **(checks or {})},
        registry=registry,
        before_scrape=runtime.refresh_metrics,
    )
    for router in routers:
        app.include_router(router)
    if provider is not None:
        instrument(app, provider)
    return app


def instrument(app: FastAPI, provider: TracerProvider) -> None:
    """Trace a service's app with ``provider``: a SERVER span per request, the trace context
    into the outbox, a span per consumed record. Once, before the app starts; an app never
    instrumented carries none of it."""
    runtime: Runtime = app.state.runtime
    tracer = provider.get_tracer("services.kit")
    runtime.trace_with(tracer)
    app.add_middleware(ServerSpans, tracer=tracer)


def asyncapi_document(runtime: Runtime, *, title: str, description: str) -> dict[str, Any]:
    """The AsyncAPI document of a service, generated from its broker's subscribers and
    publishers, with the contract events each subscribed topic brings to it."""
    runtime.subscribe()
    spec = AsyncAPI(runtime.broker, title=title, description=description, version="1")
    document: dict[str, Any] = json.loads(spec.to_specification().to_json())
    describe_received(document, runtime.consumers, service=runtime.name)
    return document


def wait_for_database(url: str, timeout: float = 120.0) -> None:
    """Block until the service's database accepts connections (it may still be starting)."""

    async def attempt() -> None:
        connection = await connect(url, connect_timeout=5)
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


def wait_for_topics(settings: ServiceSettings, timeout: float = 180.0) -> None:
    """Block until Kafka answers, creating any missing topic (idempotent across services)."""
    names = [settings.kafka_topic_prefix + name for name in ALL_TOPICS]
    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(
                ensure_topics(
                    settings.kafka(),
                    names,
                    partitions=settings.kafka_topic_partitions,
                    replication_factor=settings.kafka_topic_replication_factor,
                )
            )
            return
        except Exception as error:  # Kafka still starting: any error is worth a retry
            reason = _kafka_refusal(settings) or error
            if time.monotonic() > deadline:
                raise reason from error
            log.info("waiting_for_kafka", error=f"{type(reason).__name__}: {reason}")
            time.sleep(1)


def _kafka_refusal(settings: ServiceSettings) -> Exception | None:
    """Why the first broker refuses us, if it does."""
    try:
        asyncio.run(settings.kafka().diagnose())
    except Exception as reason:  # the answer: reported to the operator
        return reason
    return None


def _migrate(service_dir: Path, url: str) -> None:
    """Apply the migrations in a forked child: alembic's modules (about 11 MB) never enter the
    memory of the process that goes on serving."""
    child = multiprocessing.get_context("fork").Process(
        target=_upgrade, args=(service_dir, url), name="migrate"
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"the migrations failed (exit code {child.exitcode}); see above")


def _upgrade(service_dir: Path, url: str) -> None:
    from services.kit.migrations import upgrade

    upgrade(service_dir, url)


def serve(
    settings: ServiceSettings,
    create_app: Callable[[ServiceSettings], FastAPI],
    service_dir: Path,
    argv: Sequence[str] | None = None,
) -> None:
    """Run one service process: migrations first, then the app (HTTP, consumers, relay)."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{settings.service_name}")
    parser.add_argument(
        "--migrate-only",
        action="store_true",
        help="apply the migrations (under the advisory lock) and exit",
    )
    options = parser.parse_args(argv)
    configure_logging(settings.service_name, json=settings.log_json)
    migration_url = settings.migration_database_url or settings.database_url
    wait_for_database(migration_url)
    _migrate(service_dir, migration_url)
    if options.migrate_only:
        log.info("migrated", service=settings.service_name)
        return
    wait_for_topics(settings)
    app = create_app(settings)
    # What start-up built (modules, the app, its routes) leaves the collector's reach: its
    # full passes then walk only what requests create (they showed in the p99).
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=15,
    )
