"""The order's state machine as data: which action may move an order from which status to
which, and which kind of actor may cause it. The order is checked against it in ``domain``,
and a refusal is one of the named errors in ``errors``."""

from __future__ import annotations

from enum import StrEnum

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus

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


def who_may(action: Action) -> frozenset[ActorKind]:
    """Every kind of actor the table lets cause ``action`` in some status."""
    return frozenset().union(
        *(actors for (_, a), (_, actors) in TRANSITIONS.items() if a is action)
    )


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
