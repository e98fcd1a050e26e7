"""Journal lines that depend on what the event says, not only on its type."""

from __future__ import annotations

from uuid import uuid4

import pytest

from contracts import OrderStatus, SuspensionCause
from services.audit.summaries import summarize
from tests.audit import events as ev


@pytest.mark.parametrize(
    ("kind", "line"), [("acceptance", "Customer notified"), ("hold_reminder", "Staff notified")]
)
def test_a_mail_to_staff_is_not_journaled_as_the_customer_notified(kind: str, line: str) -> None:
    event = ev.notified(uuid4(), ev.T0)
    event = event.model_copy(update={"data": event.data.model_copy(update={"kind": kind})})
    assert summarize(event).en == f"{line} ({kind}, email)"


def test_a_lift_that_leaves_the_order_suspended_says_so() -> None:
    event = ev.reactivated(uuid4(), ev.T0, SuspensionCause.VIOLATION)
    assert summarize(event).en == "Reactivated (violation lifted)"
    still = OrderStatus.SUSPENDED_NON_PAYMENT
    event = event.model_copy(update={"data": event.data.model_copy(update={"status": still})})
    assert summarize(event).en == "Suspension lifted (violation), still suspended_non_payment"
