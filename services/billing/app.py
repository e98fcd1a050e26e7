"""The billing service: invoices, payments, renewal invoices and dunning."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from contracts import BILLING
from services.billing import jobs, reactions
from services.billing.api import router
from services.billing.domain import (
    CurrencyMismatch,
    ExemptionNotFound,
    InvoiceIsVoid,
    InvoiceNotFound,
    TransitionNotAllowed,
    UnmatchedPaymentNotFound,
)
from services.billing.outgoing import BILLING_ACTOR
from services.billing.settings import BillingSettings
from services.kit.clock import Clock
from services.kit.runtime import Runtime
from services.kit.service import service_app

TITLE = "Billing"
DESCRIPTION = "Invoices, payments, renewal invoices and the dunning policy."

DOMAIN_ERRORS: dict[type[Exception], int] = {
    InvoiceNotFound: 404,
    ExemptionNotFound: 404,
    UnmatchedPaymentNotFound: 404,
    InvoiceIsVoid: 409,
    TransitionNotAllowed: 409,
    CurrencyMismatch: 422,
}


def create_runtime(
    settings: BillingSettings, registry: CollectorRegistry, clock: Clock | None = None
) -> Runtime:
    """Billing's runtime: consumers of orders and payments, jobs, outbox to billing.events."""
    runtime = Runtime(
        settings, publishes_on=BILLING, registry=registry, clock=clock, actor=BILLING_ACTOR
    )
    policy = settings.dunning_policy()
    reactions.subscribe(runtime, policy)
    jobs.register(runtime, policy, settings.jobs_interval, registry)
    return runtime


def create_app(settings: BillingSettings, clock: Clock | None = None) -> FastAPI:
    registry = CollectorRegistry()
    runtime = create_runtime(settings, registry, clock)
    return service_app(
        runtime,
        title=TITLE,
        description=DESCRIPTION,
        routers=[router],
        domain_errors=DOMAIN_ERRORS,
        registry=registry,
    )
