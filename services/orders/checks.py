"""The transition table applied to an order's state: whether an action may happen now, by whom,
and what a person may choose from the detail view's menu. Pure, like ``domain``; it reads the
order through the few fields it needs, so the order uses it without a circle of imports."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus as S
from services.orders.errors import (
    CancellationAlreadyScheduled,
    NoCancellationScheduled,
    NotAllowedForRole,
    OrderConflict,
    TransitionNotAllowed,
)
from services.orders.transitions import MENU, TRANSITIONS, Action, Target, who_may


class HoldState(Protocol):
    @property
    def held_from(self) -> S: ...

    @property
    def reminded(self) -> bool: ...


class ScheduledState(Protocol):
    @property
    def effective_at(self) -> datetime: ...


class OrderState(Protocol):
    """What the checks read of an order."""

    @property
    def status(self) -> S: ...

    @property
    def hold(self) -> HoldState | None: ...

    @property
    def scheduled_cancellation(self) -> ScheduledState | None: ...


def check(
    order: OrderState, action: Action, kind: ActorKind, now: datetime | None = None
) -> S | Target:
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


def _guard(order: OrderState, action: Action, now: datetime | None) -> None:
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


def allowed_actions(order: OrderState, kind: ActorKind) -> list[Action]:
    """What ``kind`` may do with the order now, so a front end needs no copy of the rules."""
    allowed = []
    for action in MENU:
        try:
            check(order, action, kind)
        except (OrderConflict, NotAllowedForRole):
            continue
        allowed.append(action)
    return allowed
