"""The billing service: invoices, payments, renewal invoices and dunning."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from contracts import BILLING
from services.billing.settings import BillingSettings
from services.kit.clock import Clock
from services.kit.runtime import Runtime
from services.kit.service import service_app

TITLE = "Billing"
DESCRIPTION = "Invoices, payments, renewal invoices and the dunning policy."


def create_runtime(
    settings: BillingSettings, registry: CollectorRegistry, clock: Clock | None = None
) -> Runtime:
    return Runtime(settings, publishes_on=BILLING, registry=registry, clock=clock)


def create_app(settings: BillingSettings, clock: Clock | None = None) -> FastAPI:
    registry = CollectorRegistry()
    runtime = create_runtime(settings, registry, clock)
    return service_app(runtime, title=TITLE, description=DESCRIPTION, registry=registry)
