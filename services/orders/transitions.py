"""The order's state machine as data: which action may move an order from which status to
which, and which kind of actor may cause it; and the named errors of a refusal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus

if TYPE_CHECKING:  # the order is checked here, but defined (and built) in domain
    from services.orders.domain import Order

S = OrderStatus
CUSTOMER, STAFF, SYSTEM = ActorKind.CUSTOMER, ActorKind.STAFF, ActorKind.SYSTEM

STATUS_LABELS = {
    S.NOT_PROCESSED: "not processed",
    S.IN_PROGRESS: "in progress",
    S.PROCESSED: "processed",
    S.ON_HOLD: "on hold",
    S.CANCELLED: "cancelled",
    S.SUSPENDED_VIOLATION: "suspended for violation",
    S.SUSPENDED_NON_PAYMENT: "suspended for non-payment",
}


class Action(StrEnum):
    """Everything that may happen to an existing order; the value is the verb errors use."""

    ACCEPT = "accept"
    HOLD = "hold"
    RELEASE = "release"
    REMIND = "remind staff about"
    COMPLETE = "complete"
    CANCEL = "cancel"
    SCHEDULE_CANCELLATION = "schedule the cancellation of"
    REVOKE_CANCELLATION = "revoke the scheduled cancellation of"
    CANCEL_AT_PERIOD_END = "cancel at period end"
    TERMINATE = "terminate for non-payment"
    SUSPEND_VIOLATION = "suspend for violation"
    LIFT_VIOLATION = "lift the violation suspension of"
    SUSPEND_NON_PAYMENT = "suspend for non-payment"
    SETTLE = "settle an overdue invoice of"
    RENEW = "renew"
    EXTEND = "extend the paid period of"
    CHANGE_COMMENT = "change the comment of"


class Target(StrEnum):
    """Targets that depend on what the order recorded, not only on the action."""

    HELD_FROM = "the status it was held from"
    REMAINING_SUSPENSION = "processed, or the suspension whose cause remains"


PENDING = (S.NOT_PROCESSED, S.IN_PROGRESS)
ACTIVE = (S.PROCESSED, S.SUSPENDED_VIOLATION, S.SUSPENDED_NON_PAYMENT)
LIVE = (*PENDING, S.ON_HOLD, *ACTIVE)
PEOPLE = frozenset({CUSTOMER, STAFF})
ONLY_STAFF = frozenset({STAFF})
ONLY_SYSTEM = frozenset({SYSTEM})
STAFF_OR_SYSTEM = frozenset({STAFF, SYSTEM})


def _rows(
    action: Action, sources: tuple[S, ...], target: S | Target | None, actors: frozenset[ActorKind]
) -> dict[tuple[S, Action], tuple[S | Target, frozenset[ActorKind]]]:
    # target None: the status stays as it is.
    return {(source, action): (target or source, actors) for source in sources}


#: (status, action) -> (new status, who may cause it). Anything not listed is refused.
TRANSITIONS: dict[tuple[S, Action], tuple[S | Target, frozenset[ActorKind]]] = {
    **_rows(Action.ACCEPT, (S.NOT_PROCESSED,), S.IN_PROGRESS, ONLY_SYSTEM),
    # Paid while held: stays held, and a release returns it to in progress.
    **_rows(Action.ACCEPT, (S.ON_HOLD,), None, ONLY_SYSTEM),
    **_rows(Action.HOLD, PENDING, S.ON_HOLD, ONLY_STAFF),
    **_rows(Action.RELEASE, (S.ON_HOLD,), Target.HELD_FROM, ONLY_STAFF),
    **_rows(Action.REMIND, (S.ON_HOLD,), None, ONLY_SYSTEM),
    **_rows(Action.COMPLETE, (S.IN_PROGRESS,), S.PROCESSED, STAFF_OR_SYSTEM),
    **_rows(Action.CANCEL, LIVE, S.CANCELLED, PEOPLE),
    **_rows(Action.SCHEDULE_CANCELLATION, ACTIVE, None, PEOPLE),
    **_rows(Action.REVOKE_CANCELLATION, ACTIVE, None, PEOPLE),
    **_rows(Action.CANCEL_AT_PERIOD_END, ACTIVE, S.CANCELLED, ONLY_SYSTEM),
    **_rows(Action.TERMINATE, LIVE, S.CANCELLED, ONLY_SYSTEM),
    **_rows(Action.SUSPEND_VIOLATION, ACTIVE, S.SUSPENDED_VIOLATION, STAFF_OR_SYSTEM),
    **_rows(
        Action.LIFT_VIOLATION,
        (S.SUSPENDED_VIOLATION,),
        Target.REMAINING_SUSPENSION,
        STAFF_OR_SYSTEM,
    ),
    **_rows(
        Action.SUSPEND_NON_PAYMENT,
        (S.PROCESSED, S.SUSPENDED_NON_PAYMENT),
        S.SUSPENDED_NON_PAYMENT,
        ONLY_SYSTEM,
    ),
    # A violation suspension outranks non-payment: the invoice is recorded, the status stays.
    **_rows(Action.SUSPEND_NON_PAYMENT, (S.SUSPENDED_VIOLATION,), None, ONLY_SYSTEM),
    **_rows(
        Action.SETTLE,
        (S.SUSPENDED_NON_PAYMENT, S.SUSPENDED_VIOLATION),
        Target.REMAINING_SUSPENSION,
        ONLY_SYSTEM,
    ),
    **_rows(Action.RENEW, ACTIVE, None, PEOPLE),
    **_rows(Action.EXTEND, ACTIVE, None, ONLY_SYSTEM),
    **_rows(Action.CHANGE_COMMENT, LIVE, None, frozenset({CUSTOMER})),
}


# --- errors -----------------------------------------------------------------------------------


class OrderConflict(Exception):
    """The order's current state does not allow what was asked."""


class TransitionNotAllowed(OrderConflict):
    """The transition table does not allow this action in the order's status."""

    def __init__(self, status: S, action: Action) -> None:
        super().__init__(f"cannot {action.value} an order that is {STATUS_LABELS[status]}")
        self.status = status
        self.action = action


class CancellationAlreadyScheduled(OrderConflict):
    """Only one cancellation at period end can be pending."""

    def __init__(self, effective_at: datetime) -> None:
        super().__init__(f"a cancellation is already scheduled for {effective_at.isoformat()}")


class NoCancellationScheduled(OrderConflict):
    """There is nothing to revoke or to carry out."""

    def __init__(self) -> None:
        super().__init__("no cancellation is scheduled for this order")


class NotAllowedForRole(Exception):
    """The caller's kind (customer, staff, system) may not cause this action."""

    def __init__(self, kind: ActorKind, action: Action) -> None:
        super().__init__(f"a {kind.value} may not {action.value} an order")


def who_may(action: Action) -> frozenset[ActorKind]:
    """Every kind of actor the table lets cause ``action`` in some status."""
    return frozenset().union(
        *(actors for (_, a), (_, actors) in TRANSITIONS.items() if a is action)
    )


def check(order: Order, action: Action, kind: ActorKind, now: datetime | None = None) -> S | Target:
    """The target of ``action`` on ``order`` by ``kind``, or the named error refusing it."""
    if kind not in who_may(action):
        raise NotAllowedForRole(kind, action)
    row = TRANSITIONS.get((order.status, action))
    if row is None:
        raise TransitionNotAllowed(order.status, action)
    target, actors = row
    if kind not in actors:
        raise NotAllowedForRole(kind, action)
    _guard(order, action, now)
    return target


def _guard(order: Order, action: Action, now: datetime | None) -> None:
    """Conditions beyond the status that some actions need."""
    scheduled = order.scheduled_cancellation
    if action is Action.ACCEPT and order.hold and order.hold.held_from is not S.NOT_PROCESSED:
        raise TransitionNotAllowed(S.IN_PROGRESS, action)
    if action is Action.REMIND and order.hold and order.hold.reminded:
        raise OrderConflict("the hold's reminder was already given")
    if action is Action.SCHEDULE_CANCELLATION and scheduled is not None:
        raise CancellationAlreadyScheduled(scheduled.effective_at)
    if action in (Action.REVOKE_CANCELLATION, Action.CANCEL_AT_PERIOD_END) and scheduled is None:
        raise NoCancellationScheduled()
    if action is Action.CANCEL_AT_PERIOD_END and scheduled and now and now < scheduled.effective_at:
        raise OrderConflict("the paid period has not ended yet")


#: Actions a person can choose from the detail view's menu, in menu order.
MENU = (
    Action.RENEW,
    Action.CHANGE_COMMENT,
    Action.CANCEL,
    Action.SCHEDULE_CANCELLATION,
    Action.REVOKE_CANCELLATION,
    Action.HOLD,
    Action.RELEASE,
    Action.COMPLETE,
    Action.SUSPEND_VIOLATION,
    Action.LIFT_VIOLATION,
)


def allowed_actions(order: Order, kind: ActorKind) -> list[Action]:
    """What ``kind`` may do with the order now, so a front end needs no copy of the rules."""
    allowed = []
    for action in MENU:
        try:
            check(order, action, kind)
        except (OrderConflict, NotAllowedForRole):
            continue
        allowed.append(action)
    return allowed
