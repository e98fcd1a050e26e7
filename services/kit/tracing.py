"""Tracing: one trace from an HTTP request, through the outbox row, across Kafka, into every
consumer's handler (and whatever that handler publishes in turn).

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. The choice is made once, when the app is
assembled: traced classes and the server-span middleware are put in place only then, so a
process that does not trace runs exactly the code it ran before, with no per-request or
per-record check. The trace context travels as W3C ``traceparent`` (and ``tracestate``): taken
when an event is published, stored in the outbox row's ``headers`` column, sent by the relay as
Kafka headers like the rest of that column, and read back by the consumer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts.envelope import Envelope
from services.kit.consumer import DeadLetter, EventConsumer, Handler
from services.kit.db import UnitOfWork
from services.kit.settings import ServiceSettings

#: W3C trace context only: baggage is not ours to forward between services.
PROPAGATOR = TraceContextTextMapPropagator()
_CONTEXT_HEADERS = frozenset(PROPAGATOR.fields)


def provider_from_settings(settings: ServiceSettings) -> TracerProvider | None:
    """The process's tracer provider exporting over OTLP/HTTP, or None when tracing is off.

    The exporter reads the rest of the standard ``OTEL_EXPORTER_OTLP_*`` variables (headers,
    timeout, compression) itself; the endpoint is the collector's base URL, as the variable
    means it, to which the traces path is added."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return None
    # Imported only by a process that traces: the exporter brings protobuf and its own
    # HTTP client, megabytes that a process which does not trace should not hold.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {"service.name": settings.service_name, "deployment.environment": settings.environment}
    )
    provider = TracerProvider(resource=resource)
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def current_context() -> dict[str, str] | None:
    """The active span's trace context as W3C headers, to keep with work done later (a mail
    sent by a job); None when nothing is traced."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier or None


def context_of(carrier: Mapping[str, str] | None) -> Context | None:
    """The trace context kept by :func:`current_context`, to start a span in."""
    return PROPAGATOR.extract(carrier) if carrier else None


@dataclass
class TracedUnitOfWork(UnitOfWork):
    """A unit of work that remembers the trace context each event was published in, so the
    outbox row carries it even when the row is written later (a consumer's batch commits
    once, after all its records' spans have ended)."""

    contexts: dict[UUID, dict[str, str]] = field(default_factory=dict)

    def publish(self, event: Envelope[Any]) -> None:
        super().publish(event)
        carrier: dict[str, str] = {}
        PROPAGATOR.inject(carrier)
        if carrier:
            self.contexts[event.event_id] = carrier

    def outbox_headers(self) -> Mapping[UUID, Mapping[str, str]] | None:
        return self.contexts


#: Trace contexts a traced consumer remembers between parsing a record and handling it; the
#: oldest are forgotten first (a duplicate's, whose handler never runs).
REMEMBERED = 1000


class TracedConsumer(EventConsumer):
    """An :class:`EventConsumer` whose handlers each run in a CONSUMER span, whose parent is
    the trace context the record's Kafka headers carry: the handler, and every event it
    publishes, join the producer's trace. Used in place of the plain one by a traced process
    (``Runtime.subscribe``), on the batch path and on the record-by-record path alike."""

    def __init__(self, *, tracer: Tracer, **options: Any) -> None:
        super().__init__(**options)
        self.tracer = tracer
        self._records: dict[UUID, Any] = {}
        self.handlers = {model: self._traced(handler) for model, handler in self.handlers.items()}

    def classify(self, record: Any) -> Envelope[Any] | DeadLetter | None:
        outcome = super().classify(record)
        if isinstance(outcome, Envelope):
            self._records[outcome.event_id] = record
            while len(self._records) > REMEMBERED:
                del self._records[next(iter(self._records))]
        return outcome

    def _traced(self, handler: Handler) -> Handler:
        async def handle(work: UnitOfWork, event: Envelope[Any]) -> None:
            record = self._records.get(event.event_id)
            with self.tracer.start_as_current_span(
                f"{event.type} process",
                context=PROPAGATOR.extract(record_context(record)),
                kind=SpanKind.CONSUMER,
                attributes=self._attributes(event, record),
            ):
                await handler(work, event)

        return handle

    def _attributes(self, event: Envelope[Any], record: Any) -> dict[str, str | int]:
        return {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": self.topic_name,
            "messaging.consumer.group.name": self.name,
            "messaging.destination.partition.id": str(getattr(record, "partition", "")),
            "messaging.kafka.offset": int(getattr(record, "offset", -1)),
            "messaging.message.id": str(event.event_id),
            "event.type": event.type,
            "event.version": event.version,
            "correlation.id": str(event.correlation_id),
            **({"order.id": str(event.order_id)} if event.order_id else {}),
        }


def record_context(record: Any) -> dict[str, str]:
    """The trace context headers of a Kafka record (aiokafka gives ``(name, bytes)`` pairs)."""
    return {
        name: value.decode("latin-1")
        for name, value in getattr(record, "headers", None) or ()
        if name in _CONTEXT_HEADERS and value is not None
    }
