"""What the kit tells about itself, against the real servers: log lines of consumers and of
the relay name their event, the outbox backlog is measured, and tracing is all or nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from uuid import uuid4

import pytest
import structlog
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from services.kit.consumer import ConsumerMetrics, EventConsumer, RetryPolicy, apply_batch
from services.kit.db import UnitOfWork
from services.kit.kafka import make_broker
from services.kit.logs import configure_logging, get_logger
from services.kit.metrics import OutboxBacklog
from services.kit.outbox import OutboxRelay
from services.kit.runtime import asyncpg_dsn
from services.kit.server_spans import ServerSpans
from services.kit.tracing import provider_from_settings
from services.orders.app import create_app
from services.orders.settings import OrdersSettings
from tests.kit.conftest import ProbeSetup
from tests.kit.probe import Probe, Record, probe

_log = get_logger("tests.probe_handler")


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The tests configure JSON logs on the captured stderr; this puts logging back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def lines_of(err: str, *loggers: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") in loggers]


async def handle(work: UnitOfWork, event: Probe) -> None:
    if event.data.note == "bug":
        raise RuntimeError("the probe handler has a bug")
    _log.info("probe_handled", seq=event.data.seq)


@pytest.mark.usefixtures("json_logs")
async def test_every_consumer_line_names_its_event(
    kit: ProbeSetup, broker: KafkaBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("probe", json=True)
    consumer = EventConsumer(
        name="probe",
        topic=kit.topic,
        handlers={Probe: handle},
        database=kit.database,
        broker=broker,
        metrics=ConsumerMetrics(CollectorRegistry()),
        retry=RetryPolicy(first_delay=0.01, attempts_before_dlq=2),
    )
    order_id = uuid4()
    events = [probe(order_id, 1), probe(order_id, 2, note="bug")]
    records = [
        Record(kit.topic.name, event.model_dump_json().encode(), str(order_id).encode(), offset)
        for offset, event in enumerate(events)
    ]

    await apply_batch(kit.database, {kit.topic.name: consumer}, records, consumer.retry)

    lines = lines_of(capsys.readouterr().err, "tests.probe_handler", "services.kit.consumer")
    handled = [line for line in lines if line["event"] == "probe_handled"]
    # Handled on the batch path, rolled back when the bug failed it, handled again record by
    # record: each line names the first event.
    assert handled
    for line in handled:
        assert line["event_id"] == str(events[0].event_id), line
        assert line["correlation_id"] == str(events[0].correlation_id), line
    about_the_bug = [line for line in lines if line["event"] != "probe_handled"]
    assert len(about_the_bug) == 4, (
        "the batch applied record by record, a retry, the decision to dead-letter, the letter"
    )
    for line in about_the_bug:
        assert line["event_id"] == str(events[1].event_id), line
        assert line["correlation_id"] == str(events[1].correlation_id), line


@pytest.mark.usefixtures("json_logs")
async def test_a_relay_line_names_the_event_kafka_did_not_take(
    kit: ProbeSetup, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("probe", json=True)
    event = probe(uuid4(), 1)
    async with kit.database.unit_of_work() as work:
        work.publish(event)
    never_connected = make_broker(kit.bootstrap, client_id="probe-relay")
    relay = OutboxRelay(kit.database.sessions, never_connected, listen_dsn=asyncpg_dsn(kit.url))

    task = asyncio.create_task(relay.run())
    await asyncio.sleep(1.0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    lines = lines_of(capsys.readouterr().err, "services.kit.outbox")
    assert lines, "the relay could not publish, and said so"
    for line in lines:
        assert line["event_id"] == str(event.event_id), line
        assert line["correlation_id"] == str(event.correlation_id), line


async def test_the_outbox_backlog_counts_unpublished_rows_and_their_age(kit: ProbeSetup) -> None:
    registry = CollectorRegistry()
    backlog = OutboxBacklog(registry)
    refresh = backlog.refresher(kit.database.engine)
    await refresh()
    assert registry.get_sample_value("outbox_backlog") == 0
    assert registry.get_sample_value("outbox_oldest_age_seconds") == 0

    for seq in range(3):
        async with kit.database.unit_of_work() as work:
            work.publish(probe(uuid4(), seq))
    await asyncio.sleep(0.2)
    await refresh()

    assert registry.get_sample_value("outbox_backlog") == 3
    age = registry.get_sample_value("outbox_oldest_age_seconds")
    assert age is not None
    assert 0.2 <= age < 60


def test_an_untraced_service_carries_no_tracing_at_all() -> None:
    app = create_app(OrdersSettings())
    runtime = app.state.runtime
    assert runtime.tracer is None
    assert runtime.database.unit_class is UnitOfWork
    assert all(middleware.cls is not ServerSpans for middleware in app.user_middleware)


def test_a_collector_endpoint_turns_tracing_on() -> None:
    app = create_app(OrdersSettings(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318"))
    runtime = app.state.runtime
    assert runtime.tracer is not None
    assert runtime.database.unit_class is not UnitOfWork
    assert any(middleware.cls is ServerSpans for middleware in app.user_middleware)


def test_spans_are_exported_over_otlp_http_to_the_configured_collector() -> None:
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}"
        settings = OrdersSettings(service_name="orders", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)
        provider = provider_from_settings(settings)
        assert provider is not None
        with provider.get_tracer("test").start_as_current_span("a span to export"):
            pass
        provider.shutdown()  # flushes the batch
    finally:
        server.shutdown()
        thread.join()

    assert len(received) == 1
    path, content_type, body = received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert b"a span to export" in body
    assert b"orders" in body, "the resource names the service"
