"""Billing's subscribers: orders and payments events in, use cases called.

Each handler gets the time from the injected clock and the dunning policy from settings;
the kit's consumer wraps it in one unit of work with the inbox row."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from contracts import (
    ORDERS,
    PAYMENTS,
    Envelope,
    OrderCancellationRevoked,
    OrderCancellationScheduled,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderRenewalRequested,
    OrderRenewed,
    PaymentFailed,
    PaymentReceived,
)
from services.billing import handlers, payments
from services.billing.domain import DunningPolicy
from services.billing.events import Origin
from services.kit.clock import Clock
from services.kit.consumer import Handler
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime

EventHandler = Callable[..., Awaitable[None]]

ORDER_HANDLERS: Mapping[type[Envelope[Any]], EventHandler] = {
    OrderPlaced: handlers.order_placed,
    OrderRenewalRequested: handlers.renewal_requested,
    OrderCompleted: handlers.order_completed,
    OrderRenewed: handlers.order_renewed,
    OrderCancellationScheduled: handlers.cancellation_scheduled,
    OrderCancellationRevoked: handlers.cancellation_revoked,
    OrderCancelled: handlers.order_cancelled,
}

PAYMENT_HANDLERS: Mapping[type[Envelope[Any]], EventHandler] = {
    PaymentReceived: payments.payment_received,
    PaymentFailed: payments.payment_failed,
}


def _bound(handler: EventHandler, clock: Clock, policy: DunningPolicy) -> Handler:
    async def handle(work: UnitOfWork, event: Envelope[Any]) -> None:
        await handler(work, event, origin=Origin.of_event(event, clock.now()), policy=policy)

    return handle


def subscribe(runtime: Runtime, policy: DunningPolicy) -> None:
    """Subscribe billing to the topics it reacts to."""
    for topic, table in ((ORDERS, ORDER_HANDLERS), (PAYMENTS, PAYMENT_HANDLERS)):
        runtime.consume(
            topic, {model: _bound(fn, runtime.clock, policy) for model, fn in table.items()}
        )
