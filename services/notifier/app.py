"""The notifier service: reminders, critical notices, banners, email and support tickets."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from contracts import NOTIFIER
from services.kit.clock import Clock
from services.kit.runtime import Runtime
from services.kit.service import service_app
from services.notifier.settings import NotifierSettings

TITLE = "Notifier"
DESCRIPTION = "Renewal reminders, critical notices as banners and email, and support tickets."


def create_runtime(
    settings: NotifierSettings, registry: CollectorRegistry, clock: Clock | None = None
) -> Runtime:
    return Runtime(settings, publishes_on=NOTIFIER, registry=registry, clock=clock)


def create_app(settings: NotifierSettings, clock: Clock | None = None) -> FastAPI:
    registry = CollectorRegistry()
    runtime = create_runtime(settings, registry, clock)
    return service_app(runtime, title=TITLE, description=DESCRIPTION, registry=registry)
