"""The injected clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.kit.clock import Clock, FrozenClock, SystemClock
from services.kit.settings import ServiceSettings


def test_a_frozen_clock_stands_still_until_moved() -> None:
    clock = FrozenClock(datetime(2025, 3, 1, 12, tzinfo=UTC))

    assert clock.now() == clock.now() == datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert clock.advance(timedelta(days=30)) == datetime(2025, 3, 31, 12, tzinfo=UTC)
    assert clock.now() == datetime(2025, 3, 31, 12, tzinfo=UTC)


def test_a_frozen_clock_can_be_set_and_speaks_utc() -> None:
    clock = FrozenClock()

    clock.set(datetime(2025, 6, 1, 9, tzinfo=timezone(timedelta(hours=2))))

    assert clock.now() == datetime(2025, 6, 1, 7, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_clocks_refuse_naive_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        FrozenClock(datetime(2025, 1, 1))


def test_the_system_clock_runs_ahead_by_the_configured_offset() -> None:
    settings = ServiceSettings(CLOCK_OFFSET_SECONDS=3 * 86400)
    clocks: list[Clock] = [SystemClock(), SystemClock.from_settings(settings)]

    before = datetime.now(UTC)
    real, ahead = (clock.now() for clock in clocks)
    after = datetime.now(UTC)

    assert before <= real <= after
    assert before + timedelta(days=3) <= ahead <= after + timedelta(days=3)
    assert ahead.tzinfo is UTC
