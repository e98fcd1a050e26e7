"""Every action of the domain as one call, for the table-driven and property-based tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from contracts.envelope import ActorKind
from contracts.orders import OrderStatus as S
from services.orders.catalogue import Plan
from services.orders.domain import By, CustomerRef, Order
from services.orders.events import Event
from services.orders.transitions import Action

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
PLAN = Plan("vps-s", "vps", "VPS S", Decimal("4.00"), "EUR", (1, 3, 12))
CUSTOMER = By(ActorKind.CUSTOMER, "cust-1", "Carla")
STAFF = By(ActorKind.STAFF, "staff-1", "Stella")
SYSTEM = By(ActorKind.SYSTEM, "billing", "billing")
BY_KIND = {ActorKind.CUSTOMER: CUSTOMER, ActorKind.STAFF: STAFF, ActorKind.SYSTEM: SYSTEM}
INVOICE = uuid.UUID(int=1)


def new_order() -> Order:
    order, _ = Order.place(
        id=uuid.uuid4(),
        now=NOW,
        service_name="r1z7og44",
        plan=PLAN,
        period_months=1,
        customer=CustomerRef("cust-1", "Carla", "carla@example.com"),
    )
    return order


Step = Callable[[Order, By], object]

#: One call per action; system-only actions ignore ``by`` as the domain fixes their actor.
STEPS: dict[Action, Step] = {
    Action.ACCEPT: lambda o, by: o.accept(INVOICE, NOW),
    Action.HOLD: lambda o, by: o.put_on_hold(by, NOW, "waiting for ID", NOW + timedelta(days=2)),
    Action.RELEASE: lambda o, by: o.release(by),
    Action.REMIND: lambda o, by: o.remind(NOW + timedelta(days=3)),
    Action.COMPLETE: lambda o, by: o.complete(
        by, NOW, contract="C-1", starts_on=date(2025, 3, 10), main_ip="203.0.113.7"
    ),
    Action.CANCEL: lambda o, by: o.cancel(by, NOW, "no longer needed"),
    Action.SCHEDULE_CANCELLATION: lambda o, by: o.schedule_cancellation(by, NOW, None),
    Action.REVOKE_CANCELLATION: lambda o, by: o.revoke_cancellation(by),
    Action.CANCEL_AT_PERIOD_END: lambda o, by: o.cancel_at_period_end(NOW + timedelta(days=400)),
    Action.TERMINATE: lambda o, by: o.terminate(NOW, INVOICE),
    Action.SUSPEND_VIOLATION: lambda o, by: o.suspend_for_violation(by, _new_case(o), "spam"),
    Action.LIFT_VIOLATION: lambda o, by: o.lift_violation(by, None, None),
    Action.SUSPEND_NON_PAYMENT: lambda o, by: o.suspend_for_non_payment(_new_invoice(o)),
    Action.SETTLE: lambda o, by: o.settle(min(o.unpaid_invoices, default=INVOICE)),
    Action.RENEW: lambda o, by: o.request_renewal(by, PLAN, 3),
    Action.EXTEND: lambda o, by: o.extend(None, uuid.uuid4(), 3),
    Action.CHANGE_COMMENT: lambda o, by: o.change_comment(by, "my mail server"),
}


def _new_case(order: Order) -> str:
    return f"case-{len(order.violation_cases) + 1}"


def _new_invoice(order: Order) -> uuid.UUID:
    return uuid.UUID(int=len(order.unpaid_invoices) + 1)


#: What an action needs beyond the status (its guard), so the table's allowed rows can run.
PREPARE: dict[Action, Step] = {
    Action.REVOKE_CANCELLATION: lambda o, by: o.schedule_cancellation(CUSTOMER, NOW, None),
    Action.CANCEL_AT_PERIOD_END: lambda o, by: o.schedule_cancellation(CUSTOMER, NOW, None),
    Action.SETTLE: lambda o, by: o.unpaid_invoices or o.suspend_for_non_payment(INVOICE),
}

#: A way to bring a fresh order into each status.
PATHS: dict[S, list[tuple[Action, By]]] = {
    S.NOT_PROCESSED: [],
    S.IN_PROGRESS: [(Action.ACCEPT, SYSTEM)],
    S.ON_HOLD: [(Action.HOLD, STAFF)],
    S.PROCESSED: [(Action.ACCEPT, SYSTEM), (Action.COMPLETE, STAFF)],
    S.CANCELLED: [(Action.CANCEL, CUSTOMER)],
    S.SUSPENDED_VIOLATION: [
        (Action.ACCEPT, SYSTEM),
        (Action.COMPLETE, STAFF),
        (Action.SUSPEND_VIOLATION, SYSTEM),
    ],
    S.SUSPENDED_NON_PAYMENT: [
        (Action.ACCEPT, SYSTEM),
        (Action.COMPLETE, STAFF),
        (Action.SUSPEND_NON_PAYMENT, SYSTEM),
    ],
}


def order_in(status: S) -> Order:
    order = new_order()
    for action, by in PATHS[status]:
        STEPS[action](order, by)
    assert order.status is status
    return order


def events_of(result: object) -> list[Event]:
    return result if isinstance(result, list) else []
