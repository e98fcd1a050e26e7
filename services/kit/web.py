"""HTTP plumbing every service shares: correlation ids, access log, metrics, health endpoints."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kit.auth import Authenticator
from services.kit.logs import bind_values, get_logger
from services.kit.problems import Problem, install_problem_handlers, problem_response

CORRELATION_HEADER = "X-Correlation-ID"
_HEADER_KEY = CORRELATION_HEADER.lower().encode("latin-1")
#: How long ``/readyz`` waits for one dependency check.
CHECK_TIMEOUT_SECONDS = 2.0
_OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

Check = Callable[[], Awaitable[None]]
"""A readiness check: returns when the dependency answers, raises when it does not."""

_log = get_logger(__name__)


class HttpMetrics:
    """Prometheus request count and latency by method, route template and status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("method", "route", "status")
        self.requests = Counter(
            "http_requests", "HTTP requests answered.", labels, registry=registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            labels,
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)


class CorrelationIdMiddleware:
    """Gives every request a correlation id, logs its access line and records its metrics.

    The id comes from ``X-Correlation-ID`` when that is a UUID, else a new one; it is bound in
    the log context, set on ``request.state.correlation_id`` and echoed in the response.
    """

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = _correlation_id(scope)
        # In place, so the server-error handler outside this middleware sees it too.
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Appended as it is: no route of ours sets this header itself.
                message["headers"] = [*message.get("headers", ()), (_HEADER_KEY, id_bytes)]
            await send(message)

        id_bytes = correlation_id.encode("latin-1")
        with bind_values(correlation_id=correlation_id, request_id=uuid.uuid4().hex):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method, path, route = scope["method"], scope["path"], route_template(scope)
        if self.metrics is not None:
            self.metrics.observe(method, route, status, seconds)
        # Reads that succeed are the bulk of the traffic and change nothing: debug detail.
        # Every change and every failure is logged at info.
        quiet = path in _OPS_PATHS or (method in ("GET", "HEAD") and status < 400)
        log = _log.debug if quiet else _log.info
        log(
            "http_request",
            method=method,
            path=path,
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )


def _correlation_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-correlation-id":
            try:
                return str(uuid.UUID(value.decode("latin-1")))
            except ValueError:
                break
    return str(uuid.uuid4())


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/v1/orders/{order_id}``), or ``unmatched``."""
    # A label per template, not per path, keeps the metric's cardinality bounded. FastAPI
    # 0.165 keeps the included router's prefix only in its effective route context.
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None) or getattr(
        scope.get("route"), "path_format", None
    )
    return template if isinstance(template, str) else "unmatched"


class Health(BaseModel):
    """The process is alive."""

    status: str = "ok"


class Readiness(BaseModel):
    """Every dependency answered."""

    status: str = "ok"
    checks: dict[str, str]


def health_router(
    checks: Mapping[str, Check],
    *,
    registry: CollectorRegistry | None = None,
    check_timeout: float = CHECK_TIMEOUT_SECONDS,
    before_scrape: Callable[[], Awaitable[None]] | None = None,
) -> APIRouter:
    """``/healthz`` (alive), ``/readyz`` (every check passes within ``check_timeout``
    seconds; 503 problem naming each failing one otherwise) and ``/metrics`` (Prometheus text
    of ``registry``, the default registry when ``None``, after ``before_scrape`` has brought
    the gauges that need a query up to date)."""
    router = APIRouter(tags=["operations"])
    metrics_registry = REGISTRY if registry is None else registry

    @router.get("/healthz", response_model=Health, summary="Liveness")
    async def healthz() -> Health:
        return Health()

    @router.get(
        "/readyz",
        response_model=Readiness,
        summary="Readiness: database and Kafka reachable",
        responses={
            503: {"model": Problem, "description": "A dependency failed; `checks` names it."}
        },
    )
    async def readyz() -> Any:
        results = await _run_checks(checks, check_timeout)
        failing = sorted(name for name, result in results.items() if result != "ok")
        if failing:
            detail = "; ".join(f"{name}: {results[name]}" for name in failing)
            return problem_response(503, "Not ready", detail, instance="/readyz", checks=results)
        return Readiness(checks=results)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        if before_scrape is not None:
            await before_scrape()
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run_checks(checks: Mapping[str, Check], limit: float) -> dict[str, str]:
    names = list(checks)
    outcomes = await asyncio.gather(*(_run_check(checks[name], limit) for name in names))
    return dict(zip(names, outcomes, strict=True))


async def _run_check(check: Check, limit: float) -> str:
    try:
        async with asyncio.timeout(limit):
            await check()
    except TimeoutError:
        return f"timed out after {limit:g} s"
    except Exception as exc:  # a failing check is the answer, reported in the response
        return f"{type(exc).__name__}: {exc}"
    return "ok"


def install_kit(
    app: FastAPI,
    *,
    authenticator: Authenticator,
    domain_errors: Mapping[type[Exception], int] | None = None,
    checks: Mapping[str, Check] | None = None,
    registry: CollectorRegistry | None = None,
    before_scrape: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Wire the kit into a service's app the one way every service does it.

    Problem handlers (with the service's ``domain_errors``), the authenticator on
    ``app.state``, correlation/access-log/metrics middleware and the health router.
    """
    registry = CollectorRegistry() if registry is None else registry
    app.state.authenticator = authenticator
    install_problem_handlers(app, domain_errors)
    app.add_middleware(CorrelationIdMiddleware, metrics=HttpMetrics(registry))
    app.include_router(health_router(checks or {}, registry=registry, before_scrape=before_scrape))
