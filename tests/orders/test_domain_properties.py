"""Property-based: random sequences of actions and events, by any kind of actor, never reach a
state the transition table forbids, a refused step changes nothing, and what the order records
always matches its status."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus as S
from services.orders.catalogue import InvalidField
from services.orders.domain import Order
from services.orders.errors import NotAllowedForRole, OrderConflict
from services.orders.events import Reactivated, Suspended
from services.orders.transitions import TRANSITIONS, Action, Target
from tests.orders.domain_steps import BY_KIND, STEPS, new_order

ACTIVE = {S.PROCESSED, S.SUSPENDED_VIOLATION, S.SUSPENDED_NON_PAYMENT}

steps = st.lists(
    st.tuples(st.sampled_from(list(Action)), st.sampled_from(list(BY_KIND))), max_size=40
)


@settings(max_examples=400, deadline=None)
@given(steps)
def test_no_sequence_leaves_the_table_or_breaks_the_records(
    sequence: list[tuple[Action, ActorKind]],
) -> None:
    order = new_order()
    for action, kind in sequence:
        before = copy.deepcopy(order)
        try:
            emitted = STEPS[action](order, BY_KIND[kind])
        except (OrderConflict, NotAllowedForRole, InvalidField):
            assert order == before, f"refused {action.name} changed the order"
            continue
        row = TRANSITIONS.get((before.status, action))
        assert row is not None, f"{action.name} happened in {before.status}"
        target, actors = row
        # System-only steps (payments, dunning, jobs) take no actor: the domain fixes it.
        assert kind in actors or actors == {ActorKind.SYSTEM}
        if isinstance(target, S):
            assert order.status is target
        elif target is Target.HELD_FROM:
            assert before.hold is not None
            assert order.status is before.hold.held_from
        assert_records_match_status(order)
        assert_events_tell_the_status(emitted, order)


def assert_events_tell_the_status(emitted: object, order: Order) -> None:
    """A suspension's start or end names the status the order is left in, so no consumer
    reads "reactivated" as "processed" while another cause still suspends it."""
    events = emitted if isinstance(emitted, list) else []  # a renewal returns its line
    for event in [e for e in events if isinstance(e, Suspended | Reactivated)]:
        assert event.status is order.status, f"{event} while the order is {order.status}"


def assert_records_match_status(order: Order) -> None:
    status = order.status
    assert (order.hold is not None) == (status is S.ON_HOLD)
    assert (order.cancellation is not None) == (status is S.CANCELLED)
    assert (order.completion is not None) == (order.paid_until is not None)
    if status in ACTIVE:
        assert order.completion is not None
    if order.scheduled_cancellation is not None:
        assert status in ACTIVE
    assert bool(order.violation_cases) == (status is S.SUSPENDED_VIOLATION)
    if status is S.SUSPENDED_NON_PAYMENT:
        assert order.unpaid_invoices
        assert not order.violation_cases
    if status is S.PROCESSED:
        assert not order.unpaid_invoices
        assert not order.violation_cases
    if order.hold is not None:
        assert order.hold.held_from in (S.NOT_PROCESSED, S.IN_PROGRESS)
    if order.accepted_at is None:
        assert status in (S.NOT_PROCESSED, S.ON_HOLD, S.CANCELLED)
