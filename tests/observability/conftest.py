"""The four services in this test process, traced into one in-memory exporter, on the real
Kafka and PostgreSQL: once for this package, as in production but for the exporter."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from tests.apps import RunningService, running_service
from tests.stack import Servers

SERVICES = ("orders", "billing", "audit", "notifier")


@dataclass
class Platform:
    services: dict[str, RunningService]
    spans: InMemorySpanExporter
    prefix: str

    async def scrape(self, name: str) -> dict[str, list[tuple[dict[str, str], float]]]:
        """A service's ``/metrics``: each sample name with its labels and values."""
        response = await self.services[name].http.get("/metrics")
        assert response.status_code == 200, response.text
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((sample.labels, sample.value))
        return samples


@pytest.fixture(scope="package")
async def platform(stack: Servers) -> AsyncIterator[Platform]:
    spans = InMemorySpanExporter()
    prefix = f"obs{uuid4().hex[:8]}."
    async with contextlib.AsyncExitStack() as running:
        services = {}
        for name in SERVICES:
            provider = TracerProvider(resource=Resource.create({"service.name": name}))
            provider.add_span_processor(SimpleSpanProcessor(spans))
            # Nothing listens on port 9: every try to send a mail fails, and is counted.
            overrides = {"smtp_port": 9} if name == "notifier" else {}
            services[name] = await running.enter_async_context(
                running_service(name, stack, prefix=prefix, tracer_provider=provider, **overrides)
            )
        yield Platform(services, spans, prefix)
