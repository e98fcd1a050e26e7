"""One trace from ``POST /orders`` through the outbox and Kafka into billing's and audit's
handlers, and on through the invoice billing publishes in turn."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from services.notifier.jobs import SEND_MAIL
from tests.apps import bearer
from tests.helpers import eventually
from tests.observability.conftest import Platform

CUSTOMER = bearer("customer", "c-trace", name="Tracy", email="tracy@example.com")


def handled(
    spans: Sequence[ReadableSpan], consumer: str, event_type: str, order_id: str
) -> ReadableSpan | None:
    """The span in which ``consumer`` handled ``event_type`` about the order, if any yet."""
    for span in spans:
        attributes = span.attributes or {}
        if (
            attributes.get("messaging.consumer.group.name") == consumer
            and attributes.get("event.type") == event_type
            and attributes.get("order.id") == order_id
        ):
            return span
    return None


async def test_one_trace_from_the_request_to_the_invoice_and_the_journal(
    platform: Platform,
) -> None:
    response = await platform.services["orders"].http.post(
        "/orders",
        json={"plan": "vps-s", "period_months": 1},
        headers={**CUSTOMER, "Idempotency-Key": str(uuid4())},
    )
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]

    async def all_handled() -> bool:
        spans = platform.spans.get_finished_spans()
        wanted = [
            ("billing", "order.placed"),
            ("audit", "order.placed"),
            ("audit", "invoice.issued"),
        ]
        return all(handled(spans, *pair, order_id) for pair in wanted)

    await eventually(all_handled, timeout=60)
    spans = platform.spans.get_finished_spans()
    request = next(
        span
        for span in spans
        if span.kind is SpanKind.SERVER
        and span.name == "POST /orders"
        and span.resource.attributes["service.name"] == "orders"
        and (span.attributes or {}).get("correlation.id") == response.headers["X-Correlation-ID"]
    )
    invoicing = handled(spans, "billing", "order.placed", order_id)
    journal = handled(spans, "audit", "order.placed", order_id)
    invoice_journal = handled(spans, "audit", "invoice.issued", order_id)
    assert invoicing is not None
    assert journal is not None
    assert invoice_journal is not None

    def parent_of(span: ReadableSpan) -> int | None:
        return span.parent.span_id if span.parent else None

    trace_id = request.context.trace_id
    assert {s.context.trace_id for s in (invoicing, journal, invoice_journal)} == {trace_id}
    # Billing's and audit's handlers are children of the request; the journal entry of the
    # invoice is a child of billing's handler, whose outbox row carried its context on.
    assert parent_of(invoicing) == request.context.span_id
    assert parent_of(journal) == request.context.span_id
    assert parent_of(invoice_journal) == invoicing.context.span_id
    assert invoicing.kind is SpanKind.CONSUMER
    assert invoicing.resource.attributes["service.name"] == "billing"
    assert journal.resource.attributes["service.name"] == "audit"
    assert invoicing.name == "order.placed process"


async def test_the_mail_joins_the_trace_of_what_queued_it(platform: Platform) -> None:
    orders = platform.services["orders"].http
    placed = await orders.post(
        "/orders",
        json={"plan": "vps-s", "period_months": 1},
        headers={**CUSTOMER, "Idempotency-Key": str(uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    cancelled = await orders.post(
        f"/orders/{order_id}/cancel", json={"reason": "too dear"}, headers=CUSTOMER
    )
    assert cancelled.status_code == 200, cancelled.text  # the cancellation is mailed

    def tries() -> list[ReadableSpan]:
        return [
            span
            for span in platform.spans.get_finished_spans()
            if span.name == "smtp send" and (span.attributes or {}).get("order.id") == order_id
        ]

    async def sent_once() -> bool:
        await platform.services["notifier"].runtime.jobs.run_once(SEND_MAIL)
        return bool(tries())

    await eventually(sent_once, timeout=60)

    def trace_of(response: httpx.Response) -> int:
        correlation = response.headers["X-Correlation-ID"]
        return next(
            span.context.trace_id
            for span in platform.spans.get_finished_spans()
            if span.kind is SpanKind.SERVER
            and (span.attributes or {}).get("correlation.id") == correlation
        )

    # The cancellation's mail is sent in the cancellation's trace (and a mail about the
    # placement, if any, in the placement's): none starts a trace of its own.
    traces = {span.context.trace_id for span in tries()}
    assert trace_of(cancelled) in traces
    assert traces <= {trace_of(cancelled), trace_of(placed)}
    assert all(span.resource.attributes["service.name"] == "notifier" for span in tries())
