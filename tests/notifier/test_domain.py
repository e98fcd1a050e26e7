"""The notifier's rules, without fixtures."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifier import domain
from services.notifier.domain import NoticeKind, Placement, Placements, RetryPolicy, Severity
from services.notifier.errors import BannerNotDismissible

OFFSETS = (14, 7, 3, 1)
TODAY = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (20, None),
        (15, None),
        (14, 14),
        (13, 14),
        (8, 14),
        (7, 7),
        (4, 7),
        (3, 3),
        (2, 3),
        (1, 1),
        (0, 1),
        (-1, None),
    ],
)
def test_the_reminder_due_is_the_nearest_offset_not_below_the_days_left(
    days: int, expected: int | None
) -> None:
    assert domain.due_reminder(TODAY + timedelta(days=days), TODAY, OFFSETS) == expected


@given(
    offsets=st.lists(st.integers(1, 60), min_size=1, max_size=6, unique=True).map(tuple),
    days=st.integers(-5, 90),
)
def test_a_due_reminder_never_comes_before_its_offset(offsets: tuple[int, ...], days: int) -> None:
    due = domain.due_reminder(TODAY + timedelta(days=days), TODAY, offsets)
    if due is None:
        assert days < 0 or days > max(offsets)
    else:
        assert due in offsets
        assert due >= days >= 0
        first, last = domain.reminder_window(TODAY, offsets)
        assert first <= TODAY + timedelta(days=days) <= last


@given(days=st.integers(0, 30))
def test_walking_day_by_day_sends_each_offset_once(days: int) -> None:
    paid_until = TODAY + timedelta(days=days)
    sent = {
        due
        for step in range(days + 1)
        if (due := domain.due_reminder(paid_until, TODAY + timedelta(days=step), OFFSETS))
    }
    assert sent == {offset for offset in OFFSETS if offset <= days} | (
        {min(o for o in OFFSETS if o >= days)} if days <= max(OFFSETS) else set()
    )


def test_reminder_keys_differ_by_period_and_offset() -> None:
    order = uuid4()
    keys = {
        domain.reminder_notice(order, paid_until, offset).key
        for paid_until in (date(2025, 4, 1), date(2025, 5, 1))
        for offset in OFFSETS
    }
    assert len(keys) == 8
    late = domain.reminder_notice(order, date(2025, 4, 1), 1)
    assert late.severity is Severity.WARNING


def test_critical_notices_are_on_every_screen_and_cannot_be_dismissed() -> None:
    order = uuid4()
    for violation in (True, False):
        notice = domain.suspension_notice(order, uuid4(), violation=violation, ref="case-1")
        assert notice.severity is Severity.CRITICAL
        assert notice.cause.startswith(domain.suspension_causes(order))
        with pytest.raises(BannerNotDismissible):
            domain.ensure_dismissible(notice.severity)
    domain.ensure_dismissible(Severity.WARNING)
    domain.ensure_dismissible(Severity.INFO)


def test_each_cause_of_a_suspension_is_a_cause_of_its_own() -> None:
    order = uuid4()
    causes = {
        domain.suspension_notice(order, uuid4(), violation=True, ref="case-1").cause,
        domain.suspension_notice(order, uuid4(), violation=True, ref="case-2").cause,
        domain.suspension_notice(order, uuid4(), violation=False, ref=str(uuid4())).cause,
    }
    assert len(causes) == 3
    assert domain.legacy_suspension_cause(order) not in causes


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_of_notice_reaches_both_pages_unless_configured(kind: NoticeKind) -> None:
    assert Placements().of(kind) is Placement.BOTH
    for page in (Placement.DASHBOARD, Placement.ORDERS_TAB):
        assert kind in Placements().kinds_on(page)
    kept = Placements({kind: Placement.ORDERS_TAB})
    assert kind in kept.kinds_on(Placement.ORDERS_TAB)
    assert kind not in kept.kinds_on(Placement.DASHBOARD)
    assert [k for k in NoticeKind if k not in kept.kinds_on(Placement.DASHBOARD)] == [kind]


def test_only_the_first_overdue_stage_is_told_here() -> None:
    order, invoice = uuid4(), uuid4()
    notice = domain.overdue_notice(order, invoice, uuid4(), stage="overdue")
    assert notice is not None
    assert notice.kind is NoticeKind.INVOICE_OVERDUE
    assert notice.cause == domain.invoice_cause(invoice)
    assert domain.overdue_notice(order, invoice, uuid4(), stage="suspend") is None
    assert domain.overdue_notice(order, invoice, uuid4(), stage="terminate") is None


def test_an_invoice_reminder_is_one_per_invoice_and_offset_and_ends_with_the_invoice() -> None:
    order, invoice = uuid4(), uuid4()
    before = domain.invoice_reminder_notice(order, invoice, -3)
    assert before.key == domain.invoice_reminder_notice(order, invoice, -3).key
    assert before.key != domain.invoice_reminder_notice(order, invoice, 3).key
    assert before.key != domain.invoice_reminder_notice(order, uuid4(), -3).key
    assert before.cause == domain.invoice_cause(invoice)
    assert before.severity is Severity.WARNING


def test_a_minor_incident_warns_and_others_are_critical() -> None:
    order = uuid4()
    assert domain.incident_notice(order, "i1", severity="minor").severity is Severity.WARNING
    assert domain.incident_notice(order, "i1", severity="major").severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("pl", "pl"),
        ("PL", "pl"),
        ("fr", "en"),
        (None, "en"),
        ("", "en"),
        ("en-GB", "en"),
    ],
)
def test_customers_are_written_to_in_their_language_or_english(
    locale: str | None, expected: str
) -> None:
    assert domain.pick_locale(locale) == expected


def test_mail_retries_double_up_to_a_ceiling_then_give_up() -> None:
    policy = RetryPolicy(4, timedelta(minutes=1), timedelta(minutes=3))
    delays = [policy.next_delay(attempts) for attempts in range(1, 5)]
    assert delays == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=3), None]
