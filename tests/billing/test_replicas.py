"""Two billing replicas on one database and one consumer group: each invoice issued once,
numbers unique and gapless, each dunning stage published once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from uuid import uuid4

from services.billing.jobs import DUNNING, RENEWALS
from tests.apps import running_service
from tests.billing.conftest import Billing, cancelled, placed, renewal
from tests.helpers import eventually
from tests.stack import Servers


async def test_two_replicas_issue_each_invoice_once(billing: Billing, stack: Servers) -> None:
    database = billing.service.database_url.rsplit("/", 1)[1]
    async with running_service(
        "billing", stack, prefix=billing.prefix, clock=billing.clock, database=database
    ) as second:
        events = [placed(f"cust{n % 3}", "6.00") for n in range(16)]
        batch = renewal("cust0", {uuid4(): "1.00", uuid4(): "2.00"})
        for event in [*events, batch, *events[::2], batch]:
            await billing.send(event)

        async def all_issued() -> list[object]:
            found = await billing.published("invoice.issued")
            return found if len(found) >= 17 else []

        await eventually(all_issued)
        billing.clock.advance(timedelta(days=40))
        passes = await asyncio.gather(
            *(
                replica.runtime.jobs.run_once(job)
                for job in (DUNNING, DUNNING, RENEWALS)
                for replica in (billing.service, second)
            )
        )
        # Keyed like the placements, so processed after their duplicates: once every order's
        # invoice is voided, every duplicate has been handled by one replica or the other.
        for event in events:
            await billing.send(cancelled(event.order_id))
        await eventually(lambda: _at_least(billing, "invoice.voided", 16))

    issued = await billing.published("invoice.issued")
    assert len(issued) == 17
    assert Counter(e.order_id for e in issued).most_common(1)[0][1] == 1
    numbers = sorted(e.data.number for e in issued)
    assert numbers == [f"2026-{n:06d}" for n in range(1, 18)]
    assert sum(p or 0 for p in passes) == 17 * 3, "each invoice: overdue, suspend, terminate"
    overdue = await billing.published("invoice.overdue")
    assert len({(e.data.invoice_id, e.data.stage) for e in overdue}) == len(overdue) == 51
    assert len(await billing.published("invoice.voided")) == 16


async def _at_least(billing: Billing, type_: str, count: int) -> list[object]:
    found = await billing.published(type_)
    return found if len(found) >= count else []
