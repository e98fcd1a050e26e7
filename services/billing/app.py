"""The billing service: invoices, payments, renewal invoices and dunning."""

from __future__ import annotations

from fastapi import FastAPI

from contracts import BILLING
from services.billing import jobs, reactions
from services.billing.api import router
from services.billing.errors import (
    CurrencyMismatch,
    ExemptionNotFound,
    InvoiceIsVoid,
    InvoiceNotFound,
    TransitionNotAllowed,
    UnmatchedPaymentNotFound,
)
from services.billing.outgoing import BILLING_ACTOR
from services.billing.settings import BillingSettings
from services.kit.runtime import Runtime
from services.kit.service import ServiceShape

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


def wire(settings: BillingSettings, runtime: Runtime, app: FastAPI) -> None:
    """Billing's consumers of orders and payments, and its jobs."""
    policy = settings.dunning_policy()
    reactions.subscribe(runtime, policy)
    jobs.register(runtime, policy, settings.jobs_interval, runtime.registry)


SERVICE = ServiceShape(
    title=TITLE,
    description=DESCRIPTION,
    publishes_on=BILLING,
    routers=[router],
    domain_errors=DOMAIN_ERRORS,
    wire=wire,
    actor=BILLING_ACTOR,
)
create_app = SERVICE.create_app
