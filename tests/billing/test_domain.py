"""Billing's rules without servers: invoice statuses, payments, the dunning policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import InvoiceKind, OverdueStage
from services.billing.domain import (
    TRANSITIONS,
    DunningPolicy,
    Invoice,
    InvoiceAction,
    InvoiceStatus,
    Line,
    invoice_number,
    new_invoice,
)
from services.billing.errors import CurrencyMismatch, InvoiceIsVoid, TransitionNotAllowed

AT = datetime(2026, 3, 2, tzinfo=UTC)
DUE = date(2026, 3, 16)


def line(amount: str, currency: str = "EUR") -> Line:
    return Line(uuid4(), "VPS (M)", 1, Decimal(amount), currency)


def invoice(*amounts: str) -> Invoice:
    return new_invoice(
        invoice_id=uuid4(),
        number=invoice_number(2026, 7),
        kind=InvoiceKind.INITIAL,
        customer_id="alice",
        lines=[line(amount) for amount in amounts],
        issued_on=date(2026, 3, 2),
        due_on=DUE,
    )


def test_numbers_are_year_and_zero_padded_sequence() -> None:
    assert invoice_number(2026, 123) == "2026-000123"


def test_an_invoice_never_mixes_currencies_or_lists_an_order_twice() -> None:
    with pytest.raises(CurrencyMismatch):
        new_invoice(
            invoice_id=uuid4(),
            number="2026-000001",
            kind=InvoiceKind.RENEWAL,
            customer_id="a",
            lines=[line("1.00"), line("1.00", "USD")],
            issued_on=DUE,
            due_on=DUE,
        )
    twice = line("1.00")
    with pytest.raises(ValueError, match="once"):
        new_invoice(
            invoice_id=uuid4(),
            number="2026-000001",
            kind=InvoiceKind.RENEWAL,
            customer_id="a",
            lines=[twice, twice],
            issued_on=DUE,
            due_on=DUE,
        )


def test_payments_in_parts_settle_the_invoice_exactly_once_covered() -> None:
    bill = invoice("10.00", "5.50")
    assert bill.total == Decimal("15.50")
    first = bill.take_payment(Decimal("10.00"), "EUR", AT)
    assert (first.applied, first.settled, bill.status) == (Decimal("10.00"), False, "open")
    second = bill.take_payment(Decimal("6.00"), "EUR", AT)
    assert second.settled
    assert second.applied == Decimal("5.50")
    assert second.flag_reason == "overpayment of 0.50 EUR"
    assert bill.status is InvoiceStatus.PAID
    assert bill.paid_at == AT
    late = bill.take_payment(Decimal("1.00"), "EUR", AT)
    assert late.applied == 0
    assert late.flagged


def test_void_and_foreign_currency_payments_are_flagged_not_applied() -> None:
    bill = invoice("10.00")
    assert bill.take_payment(Decimal("10.00"), "USD", AT).flagged
    bill.void("order cancelled")
    outcome = bill.take_payment(Decimal("10.00"), "EUR", AT)
    assert (outcome.applied, outcome.flagged) == (0, True)
    with pytest.raises(InvoiceIsVoid):
        bill.ensure_payable_by_hand()
    with pytest.raises(TransitionNotAllowed, match="'void' cannot void"):
        bill.void("again")


ACTIONS = st.lists(
    st.one_of(
        st.just("void"),
        st.just("overdue"),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("30"), places=2),
    ),
    max_size=8,
)


@given(ACTIONS)
def test_any_sequence_keeps_paid_amount_and_status_consistent(actions: list[object]) -> None:
    bill = invoice("10.00", "7.25")
    for action in actions:
        before = bill.status
        try:
            if action == "void":
                bill.void("why")
            elif action == "overdue":
                bill.mark_overdue()
            else:
                assert isinstance(action, Decimal)
                bill.take_payment(action, "EUR", AT)
        except TransitionNotAllowed:
            assert bill.status is before, "a refused action changes nothing"
        assert Decimal(0) <= bill.paid_amount <= bill.total
        assert (bill.status is InvoiceStatus.PAID) == (bill.paid_amount == bill.total)
        if before in (InvoiceStatus.PAID, InvoiceStatus.VOID):
            assert bill.status is before, "paid and void are final"


def test_the_transition_table_has_no_way_out_of_paid_or_void() -> None:
    for status in (InvoiceStatus.PAID, InvoiceStatus.VOID):
        assert not [a for (s, a) in TRANSITIONS if s is status]
    assert TRANSITIONS[(InvoiceStatus.OVERDUE, InvoiceAction.PAY)] is InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("days", "exempt", "reached"),
    [
        (0, False, []),
        (1, False, ["overdue"]),
        (4, False, ["overdue"]),
        (5, False, ["overdue", "suspend"]),
        (14, False, ["overdue", "suspend"]),
        (15, False, ["overdue", "suspend", "terminate"]),
        (99, True, ["overdue"]),
    ],
)
def test_dunning_stages_fall_on_their_configured_days(
    days: int, exempt: bool, reached: list[str]
) -> None:
    policy = DunningPolicy(overdue_after_days=1, suspend_after_days=5, terminate_after_days=10)
    today = DUE + timedelta(days=days)
    assert policy.stages_reached(DUE, today, exempt=exempt) == [OverdueStage(s) for s in reached]


def test_a_policy_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(ValueError, match="suspension"):
        DunningPolicy(overdue_after_days=3, suspend_after_days=2)
    with pytest.raises(ValueError, match="one day"):
        DunningPolicy(overdue_after_days=0)


@pytest.mark.parametrize(
    ("days", "reminder"),
    [(-10, None), (-4, None), (-3, -3), (-1, -3), (0, -3), (2, -3), (3, 3), (40, 3)],
)
def test_the_reminder_due_is_the_latest_offset_reached(days: int, reminder: int | None) -> None:
    policy = DunningPolicy(reminder_offsets_days=(3, -3))
    assert policy.reminder_due(DUE, DUE + timedelta(days=days)) == reminder


@given(
    st.lists(st.integers(-30, 30), min_size=1, max_size=4, unique=True),
    st.integers(-60, 60),
)
def test_an_invoice_is_in_the_window_of_exactly_its_due_reminder(
    offsets: list[int], days: int
) -> None:
    policy = DunningPolicy(reminder_offsets_days=tuple(offsets))
    today = DUE + timedelta(days=days)
    windows = policy.reminder_windows(today)
    holding = [
        offset
        for offset, (after, latest) in windows.items()
        if (after is None or after < DUE) and latest >= DUE
    ]
    due = policy.reminder_due(DUE, today)
    assert holding == ([] if due is None else [due])


def test_a_reminder_offset_is_given_once() -> None:
    with pytest.raises(ValueError, match="once"):
        DunningPolicy(reminder_offsets_days=(-3, 3, -3))


def test_an_orders_line_taken_off_leaves_the_others_in_order() -> None:
    batch = invoice("10.00", "20.00", "30.00")
    first, middle, last = batch.lines
    assert batch.lines_without(middle.order_id) == [first, last]
    assert batch.lines_without(uuid4()) == list(batch.lines)
    single = invoice("10.00")
    assert single.lines_without(single.lines[0].order_id) == []
