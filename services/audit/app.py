"""The audit service: the append-only order journal."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.audit.api import router
from services.audit.consumers import subscribe_all
from services.audit.domain import CorrectedEntryNotFound, JournalNotFound
from services.audit.settings import AuditSettings
from services.kit.clock import Clock
from services.kit.runtime import Runtime
from services.kit.service import service_app

TITLE = "Audit"
DESCRIPTION = "The append-only order journal and its verification."


def create_runtime(
    settings: AuditSettings, registry: CollectorRegistry, clock: Clock | None = None
) -> Runtime:
    """Audit publishes nothing; it journals every event of every topic."""
    runtime = Runtime(settings, publishes_on=None, registry=registry, clock=clock)
    subscribe_all(runtime, registry)
    return runtime


def create_app(settings: AuditSettings, clock: Clock | None = None) -> FastAPI:
    registry = CollectorRegistry()
    runtime = create_runtime(settings, registry, clock)
    return service_app(
        runtime,
        title=TITLE,
        description=DESCRIPTION,
        routers=[router],
        domain_errors={JournalNotFound: 404, CorrectedEntryNotFound: 422},
        registry=registry,
    )
