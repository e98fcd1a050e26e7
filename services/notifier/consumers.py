"""The notifier's subscriptions: each contract event goes to its use case in ``handlers``.

The abuse desk's events are not read: their effect reaches the customer as ``order.suspended``
and ``order.reactivated`` from the orders service, which this service does read."""

from __future__ import annotations

from functools import partial
from typing import Any

from contracts import BILLING, MONITORING, ORDERS, Topic
from contracts.envelope import Envelope
from services.kit.consumer import Handler
from services.kit.runtime import Runtime
from services.notifier.handlers import HANDLERS
from services.notifier.notices import Context


def _handlers_of(topic: Topic, ctx: Context) -> dict[type[Envelope[Any]], Handler]:
    wanted = set(topic.models.values())
    return {
        model: partial(_call, handler=handler, ctx=ctx)
        for model, handler in HANDLERS.items()
        if model in wanted
    }


async def _call(work: Any, event: Any, *, handler: Any, ctx: Context) -> None:
    await handler(work, event, ctx)


def subscribe(runtime: Runtime, ctx: Context) -> None:
    """Subscribe the notifier's consumer group to the topics it reads."""
    for topic in (ORDERS, BILLING, MONITORING):
        runtime.consume(topic, _handlers_of(topic, ctx))
