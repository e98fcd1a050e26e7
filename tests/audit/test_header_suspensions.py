"""The journal header's status follows the order through any mix of suspension causes: the
events are those the orders service publishes for random sequences of violations, lifts,
overdue invoices and payments (its domain and its mapping to contracts, no copy of them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import Actor, SuspensionCause
from contracts.orders import OrderStatus as S
from services.audit.header import Header, apply
from services.kit.context import Context
from services.orders.domain import Order
from services.orders.errors import OrderConflict
from services.orders.outgoing import envelope
from services.orders.transitions import Action
from tests.audit import events as ev
from tests.orders.domain_steps import SYSTEM, events_of, order_in

AT = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
CTX = Context(
    Actor(kind=SYSTEM.kind, id=SYSTEM.id, name=SYSTEM.name), AT, correlation_id=uuid.UUID(int=7)
)


def _suspend_violation(order: Order, n: int) -> object:
    return order.suspend_for_violation(SYSTEM, f"case-{n}", "spam")


def _lift_violation(order: Order, n: int) -> object:
    cases = sorted(order.violation_cases)
    return order.lift_violation(SYSTEM, cases[n % len(cases)] if cases else "case-0", None)


def _suspend_non_payment(order: Order, n: int) -> object:
    return order.suspend_for_non_payment(uuid.UUID(int=n))


def _settle(order: Order, n: int) -> object:
    unpaid = sorted(order.unpaid_invoices)
    return order.settle(unpaid[n % len(unpaid)] if unpaid else uuid.UUID(int=0))


STEPS = {
    Action.SUSPEND_VIOLATION: _suspend_violation,
    Action.LIFT_VIOLATION: _lift_violation,
    Action.SUSPEND_NON_PAYMENT: _suspend_non_payment,
    Action.SETTLE: _settle,
}

sequences = st.lists(
    st.tuples(st.sampled_from(list(STEPS)), st.integers(min_value=1, max_value=3)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(sequences)
def test_the_header_shows_the_status_the_order_is_in(steps: list[tuple[Action, int]]) -> None:
    order = order_in(S.PROCESSED)
    header = Header(status=S.PROCESSED)
    for action, n in steps:
        try:
            emitted = events_of(STEPS[action](order, n))
        except OrderConflict:
            continue  # refused by the order: nothing published
        for event in emitted:
            header = apply(header, envelope(event, order, CTX))
        assert header.status == order.status
        if order.status is S.PROCESSED:
            assert "suspensions" not in header.details
        else:
            assert len(header.details["suspensions"]) == (
                len(order.violation_cases) + len(order.unpaid_invoices)
            ), "every cause that still suspends the order, each once"
            assert header.details["cause"] == order.status.removeprefix("suspended_")


def test_events_from_before_the_status_was_told_read_as_they_did() -> None:
    order = uuid.uuid4()
    header = apply(Header(status=S.PROCESSED), ev.suspended(order, AT, SuspensionCause.VIOLATION))
    assert (header.status, header.details["reason"]) == ("suspended_violation", "spam")
    header = apply(header, ev.reactivated(order, AT, SuspensionCause.VIOLATION))
    assert (header.status, header.details) == ("processed", {})
