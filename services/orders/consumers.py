"""Subscriptions of the orders service: each inbound contract event to its reaction.

The kit's consumer parses, deduplicates (inbox), dead-letters bad messages and skips event
types without a handler here (e.g. ``payment.recorded``); the reactions read the injected clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import contracts as c
from services.kit.clock import Clock
from services.kit.consumer import Handler
from services.kit.db import UnitOfWork
from services.kit.runtime import Runtime
from services.orders import reactions

Reaction = Callable[[UnitOfWork, Any, datetime], Awaitable[None]]


def subscribe(runtime: Runtime) -> None:
    """Register the orders service's consumers on the runtime's broker."""
    on = _with_clock(runtime.clock)
    runtime.consume(
        c.BILLING,
        {
            c.InvoiceIssued: on(reactions.invoice_issued),
            c.InvoicePaid: on(reactions.invoice_paid),
            c.InvoiceOverdue: on(reactions.invoice_overdue),
            c.InvoiceVoided: on(reactions.invoice_voided),
        },
    )
    runtime.consume(c.PROVISIONING, {c.ServiceDelivered: on(reactions.service_delivered)})
    runtime.consume(
        c.ABUSE,
        {
            c.ViolationConfirmed: on(reactions.violation_confirmed),
            c.ViolationLifted: on(reactions.violation_lifted),
        },
    )


def _with_clock(clock: Clock) -> Callable[[Reaction], Handler]:
    def bind(reaction: Reaction) -> Handler:
        async def handle(work: UnitOfWork, event: Any) -> None:
            await reaction(work, event, clock.now())

        return handle

    return bind
