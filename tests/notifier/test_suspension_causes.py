"""An order suspended for several causes at once: each cause's banner stays until that cause
ends, and the notifier's copy of the order keeps the status the orders service tells, whatever
the order in which billing's and the orders service's topics are read and however often an
event is delivered. Events from before the status was told still read as they did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts import OrderStatus as S
from contracts.envelope import Envelope
from tests.helpers import eventually
from tests.notifier import events
from tests.notifier.conftest import WAIT, Notifier
from tests.notifier.test_notices import active_order, banners

V, N = S.SUSPENDED_VIOLATION, S.SUSPENDED_NON_PAYMENT

Facts = Callable[[UUID, UUID, str], list[Envelope[Any]]]
"""The events after the order is active, given the order, an invoice and the customer."""


def _both_then_paid(o: UUID, i: UUID, me: str) -> list[Envelope[Any]]:
    return [
        events.suspended(o, violation=True, case_id="case-1", status=V),
        events.suspended(o, invoice_id=i, status=V),  # a violation outranks non-payment
        events.reactivated(o, invoice_id=i, status=V),
    ]


STORIES: dict[str, tuple[Facts, str, dict[str, int]]] = {
    "violation and invoice, the invoice paid": (_both_then_paid, V, {"suspension_violation": 1}),
    "the same, billing's payment read before the orders service's reactivation": (
        lambda o, i, me: (
            [*_both_then_paid(o, i, me)[:2], events.paid(o, i, me), *_both_then_paid(o, i, me)[2:]]
        ),
        V,
        {"suspension_violation": 1},
    ),
    "the same, every event delivered twice": (
        lambda o, i, me: [e for e in _both_then_paid(o, i, me) for _ in range(2)],
        V,
        {"suspension_violation": 1},
    ),
    "violation and invoice, the violation lifted": (
        lambda o, i, me: [
            *_both_then_paid(o, i, me)[:2],
            events.reactivated(o, violation=True, case_id="case-1", status=N),
        ],
        N,
        {"suspension_non_payment": 1},
    ),
    "two violation cases, one lifted": (
        lambda o, i, me: [
            events.suspended(o, violation=True, case_id="case-1", status=V),
            events.suspended(o, violation=True, case_id="case-2", status=V),
            events.reactivated(o, violation=True, case_id="case-2", status=V),
        ],
        V,
        {"suspension_violation": 1},
    ),
    "two violation cases, both lifted without naming one": (
        lambda o, i, me: [
            events.suspended(o, violation=True, case_id="case-1", status=V),
            events.suspended(o, violation=True, case_id="case-2", status=V),
            events.reactivated(o, violation=True, status=S.PROCESSED),
        ],
        S.PROCESSED,
        {},
    ),
    "from before the status was told: one cause, lifted": (
        lambda o, i, me: [events.suspended(o, invoice_id=i), events.reactivated(o, invoice_id=i)],
        S.PROCESSED,
        {},
    ),
}


@pytest.mark.parametrize("story", STORIES.values(), ids=STORIES)
async def test_each_cause_has_its_banner_until_it_ends(
    notifier: Notifier, story: tuple[Facts, str, dict[str, int]]
) -> None:
    facts, status, expected = story
    me = f"c-{uuid4().hex[:8]}"
    order = await active_order(notifier, me)
    told = facts(order, uuid4(), me)
    await notifier.publish(*told)
    await applied(notifier, [event.event_id for event in told])

    on_screen = {
        page: Counter(
            b["kind"]
            for b in await banners(notifier, me, page)
            if b["kind"].startswith("suspension")
        )
        for page in ("dashboard", "orders_tab")
    }
    assert on_screen == {"dashboard": Counter(expected), "orders_tab": Counter(expected)}
    # The notifier's copy of the order: it decides, e.g., who gets renewal reminders.
    copy = await notifier.scalar(f"SELECT status FROM orders WHERE order_id = '{order}'")
    assert copy == status


async def applied(notifier: Notifier, event_ids: list[UUID]) -> None:
    """Wait until the notifier has applied every one of these events (its inbox has them)."""
    wanted = ", ".join(f"'{event_id}'" for event_id in set(event_ids))
    count = f"SELECT count(*) FROM inbox WHERE event_id IN ({wanted})"

    async def all_in() -> bool:
        return bool(await notifier.scalar(count) == len(set(event_ids)))

    await eventually(all_in, timeout=WAIT)
