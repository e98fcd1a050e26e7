"""The SERVER span of each HTTP request in a traced process.

Installed only when tracing is on (``services.kit.service.instrument``), so an untraced process
has no extra middleware layer at all. The span continues a ``traceparent`` the caller sent, is
current while the route runs (the events the route publishes carry it into the outbox), and
is named after the route template once routing has chosen one."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kit.logs import bind_correlation
from services.kit.tracing import PROPAGATOR
from services.kit.web import route_template


class ServerSpans:
    """ASGI middleware: one SERVER span per HTTP request."""

    def __init__(self, app: ASGIApp, *, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method,
            context=PROPAGATOR.extract(_headers(scope)),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            context = span.get_span_context()
            # The trace id in the request's log lines leads from a log line to its trace.
            with bind_correlation(None, trace_id=format(context.trace_id, "032x")):
                try:
                    await self.app(scope, receive, send_noting_status)
                finally:
                    route = route_template(scope)
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    correlation_id = scope.get("state", {}).get("correlation_id")
                    if correlation_id:
                        span.set_attribute("correlation.id", correlation_id)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))


def _headers(scope: Scope) -> dict[str, Any]:
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope["headers"]
        if name in (b"traceparent", b"tracestate")
    }
