"""Time, injected: every governed call asks a :class:`Clock`, never the system.

Retention, the three-year keep of impact assessments and filing due dates all
depend on "now", so tests pass a :class:`FixedClock` and move it forward.
Times are timezone-aware UTC; the Chinese working-day calendar uses the local
date in UTC+8 (China has no daylight saving).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final, Protocol

__all__ = ["CHINA_TZ", "Clock", "FixedClock", "SystemClock", "china_date", "parse_time"]

#: China Standard Time, UTC+8 all year.
CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    """Anything that tells the time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and replays.

    Args:
        at: the time to show; naive times are taken as UTC.
    """

    def __init__(self, at: datetime) -> None:
        self._at = at if at.tzinfo else at.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        self._at += delta

    def set(self, at: datetime) -> None:
        """Show ``at`` from now on."""
        self._at = at if at.tzinfo else at.replace(tzinfo=UTC)


def china_date(moment: datetime) -> date:
    """The calendar date in China at ``moment``."""
    return moment.astimezone(CHINA_TZ).date()


def parse_time(text: str) -> datetime:
    """Read a stored ISO-8601 time back as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
