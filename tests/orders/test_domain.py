"""The order's rules, without any server: the transition table, refusals, and what is recorded."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from contracts.envelope import ActorKind
from contracts.orders import CancellationMode, SuspensionCause
from contracts.orders import OrderStatus as S
from services.orders.catalogue import one_renewal
from services.orders.checks import allowed_actions
from services.orders.domain import add_months
from services.orders.errors import (
    CancellationAlreadyScheduled,
    InvalidField,
    NoCancellationScheduled,
    NotAllowedForRole,
    OrderConflict,
    TransitionNotAllowed,
)
from services.orders.events import Cancelled, Reactivated, Released, Suspended
from services.orders.transitions import TRANSITIONS, Action
from tests.orders.domain_steps import (
    BY_KIND,
    CUSTOMER,
    INVOICE,
    NOW,
    PLAN,
    PREPARE,
    STAFF,
    STEPS,
    SYSTEM,
    new_order,
    order_in,
)

PAIRS = [(status, action) for status in S for action in Action]


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a.name}" for s, a in PAIRS])
def test_every_status_and_action_follows_the_table(status: S, action: Action) -> None:
    order = order_in(status)
    row = TRANSITIONS.get((status, action))
    if row is None:
        before = copy.deepcopy(order)
        with pytest.raises(TransitionNotAllowed) as refused:
            STEPS[action](order, BY_KIND[_someone_allowed(action)])
        assert STATUS_WORDS[status] in str(refused.value)
        assert action.value in str(refused.value)
        assert order == before, "a refused action changes nothing"
        return
    target, actors = row
    by = BY_KIND[sorted(actors)[0]]
    if action in PREPARE:
        PREPARE[action](order, by)
    STEPS[action](order, by)
    if isinstance(target, S):
        assert order.status is target


STATUS_WORDS = {
    S.NOT_PROCESSED: "not processed",
    S.IN_PROGRESS: "in progress",
    S.PROCESSED: "processed",
    S.ON_HOLD: "on hold",
    S.CANCELLED: "cancelled",
    S.SUSPENDED_VIOLATION: "suspended for violation",
    S.SUSPENDED_NON_PAYMENT: "suspended for non-payment",
}


def _someone_allowed(action: Action) -> ActorKind:
    return sorted(next(a for (_, act), (_, a) in TRANSITIONS.items() if act is action))[0]


def test_refusal_names_status_and_action() -> None:
    order = order_in(S.CANCELLED)
    with pytest.raises(TransitionNotAllowed, match="cannot hold an order that is cancelled"):
        order.put_on_hold(STAFF, NOW, "why", NOW)


@pytest.mark.parametrize(
    ("action", "by"),
    [
        (Action.HOLD, CUSTOMER),
        (Action.COMPLETE, CUSTOMER),
        (Action.SUSPEND_VIOLATION, CUSTOMER),
        (Action.HOLD, SYSTEM),
        (Action.CHANGE_COMMENT, STAFF),
    ],
)
def test_an_actor_the_table_does_not_name_is_refused(action: Action, by: object) -> None:
    order = new_order()
    with pytest.raises(NotAllowedForRole):
        STEPS[action](order, by)  # type: ignore[arg-type]
    assert order.status is S.NOT_PROCESSED


def test_release_returns_to_the_status_held_from_and_a_payment_while_held_counts() -> None:
    order = order_in(S.ON_HOLD)
    assert order.hold
    assert order.hold.held_from is S.NOT_PROCESSED
    order.accept(INVOICE, NOW)
    assert order.status is S.ON_HOLD
    assert order.release(STAFF) == [Released(order.id, S.IN_PROGRESS)]
    assert order.status is S.IN_PROGRESS
    assert order.hold is None


def test_completion_starts_the_paid_period() -> None:
    order = order_in(S.PROCESSED)
    assert order.completion
    assert order.completion.by == STAFF
    assert order.paid_until == date(2025, 4, 9)
    assert order.main_ip == "203.0.113.7"


def test_a_payment_lifts_non_payment_but_never_a_violation() -> None:
    order = order_in(S.SUSPENDED_VIOLATION)
    order.suspend_for_non_payment(INVOICE)
    assert order.status is S.SUSPENDED_VIOLATION
    order.settle(INVOICE)
    assert order.status is S.SUSPENDED_VIOLATION
    order.suspend_for_non_payment(INVOICE)
    events = order.lift_violation(SYSTEM, "case-1", None)
    still = S.SUSPENDED_NON_PAYMENT
    assert events == [Reactivated(order.id, SuspensionCause.VIOLATION, None, None, "case-1", still)]
    assert order.status is S.SUSPENDED_NON_PAYMENT, "the unpaid invoice still suspends it"
    order.settle(INVOICE)
    assert order.status is S.PROCESSED


def test_the_same_suspension_twice_is_a_conflict() -> None:
    order = order_in(S.SUSPENDED_NON_PAYMENT)
    with pytest.raises(OrderConflict):
        order.suspend_for_non_payment(INVOICE)
    assert order.suspend_for_violation(SYSTEM, "c-7", None) == [
        Suspended(order.id, SuspensionCause.VIOLATION, None, None, "c-7", S.SUSPENDED_VIOLATION)
    ]


def test_cancellation_at_period_end_is_scheduled_revocable_and_carried_out_when_due() -> None:
    order = order_in(S.PROCESSED)
    order.schedule_cancellation(CUSTOMER, NOW, "moving")
    scheduled = order.scheduled_cancellation
    assert scheduled
    assert scheduled.effective_at.isoformat() == "2025-04-10T00:00:00+00:00"
    with pytest.raises(CancellationAlreadyScheduled):
        order.schedule_cancellation(CUSTOMER, NOW, None)
    with pytest.raises(OrderConflict, match="not ended"):
        order.cancel_at_period_end(scheduled.effective_at - timedelta(seconds=1))
    order.revoke_cancellation(CUSTOMER)
    with pytest.raises(NoCancellationScheduled):
        order.revoke_cancellation(CUSTOMER)
    order.schedule_cancellation(CUSTOMER, NOW, "moving")
    events = order.cancel_at_period_end(scheduled.effective_at)
    assert events == [Cancelled(order.id, CancellationMode.END_OF_PERIOD, "moving", None)]
    assert order.cancellation
    assert order.cancellation.by == CUSTOMER


def test_renewal_extends_by_the_period_and_refuses_periods_the_plan_does_not_allow() -> None:
    order = order_in(S.PROCESSED)
    with pytest.raises(InvalidField) as refused:
        order.request_renewal(CUSTOMER, PLAN, 2)
    assert refused.value.field == "period_months"
    line = order.request_renewal(CUSTOMER, PLAN, 12)
    assert line.price == PLAN.monthly_price * 12
    with pytest.raises(InvalidField):
        one_renewal([line, line])
    order.extend(None, INVOICE, 12)
    assert order.paid_until == date(2026, 4, 9)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)


def test_allowed_actions_tell_the_menu_what_each_role_may_do() -> None:
    active = order_in(S.PROCESSED)
    assert allowed_actions(active, ActorKind.CUSTOMER) == [
        Action.RENEW,
        Action.CHANGE_COMMENT,
        Action.CANCEL,
        Action.SCHEDULE_CANCELLATION,
    ]
    assert Action.SUSPEND_VIOLATION in allowed_actions(active, ActorKind.STAFF)
    assert allowed_actions(order_in(S.CANCELLED), ActorKind.STAFF) == []
    assert allowed_actions(new_order(), ActorKind.STAFF) == [Action.CANCEL, Action.HOLD]
