"""The injected clock every time-dependent rule reads; tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from services.kit.settings import ServiceSettings


class Clock(Protocol):
    """Tells the current time as a timezone-aware UTC ``datetime``."""

    def now(self) -> datetime: ...


class SystemClock:
    """Real UTC time plus a fixed offset.

    The offset lets the local stack live days ahead of the wall clock; production refuses any
    offset in its settings, so there it is always zero.
    """

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> SystemClock:
        """The clock a service runs on, offset by ``CLOCK_OFFSET_SECONDS``."""
        return cls(timedelta(seconds=settings.clock_offset_seconds))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FrozenClock:
    """A clock that stands still until a test sets or advances it."""

    def __init__(self, at: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> None:
        self._now = _as_utc(at)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        """Jump to ``at`` (aware; converted to UTC)."""
        self._now = _as_utc(at)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        self._now += delta
        return self._now


def _as_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a clock needs an aware datetime, got naive {at.isoformat()}")
    return at.astimezone(UTC)
