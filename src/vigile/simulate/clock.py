"""Simulated time: the period, local working hours, and fast RFC 3339 timestamps.

Times inside the simulator are whole seconds since the Unix epoch, in UTC; they become
``2021-05-20T14:03:11Z`` strings only when a record is encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

__all__ = ["DAY", "HMS", "PREFIX", "Calendar", "rfc3339"]

DAY = 86_400
_EPOCH = date(1970, 1, 1)


class _DayPrefixes(dict[int, str]):
    """``2021-05-20T`` by day since the epoch, made on first use."""

    def __missing__(self, epoch_day: int) -> str:
        prefix = f"{(_EPOCH + timedelta(days=epoch_day)).isoformat()}T"
        self[epoch_day] = prefix
        return prefix


# Encoding a time is two lookups, ``PREFIX[t // DAY] + HMS[t % DAY]``: hot paths inline it.
PREFIX: dict[int, str] = _DayPrefixes()
HMS: tuple[str, ...] = tuple(
    f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
)


def rfc3339(t: int) -> str:
    """``t`` (seconds since the epoch) as an RFC 3339 UTC time with a ``Z``."""
    return PREFIX[t // DAY] + HMS[t % DAY]


@cache
def _utc_offset(timezone: str, day: date) -> int:
    # Taken at local noon: daylight-saving switches happen at night, away from shifts.
    offset = datetime.combine(day, time(12), ZoneInfo(timezone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Calendar:
    """The simulated period: ``days`` days from ``start``; day 0 is ``start``."""

    start: date
    days: int

    def date_of(self, day: int) -> date:
        """The calendar date of day index ``day``."""
        return self.start + timedelta(days=day)

    def index(self, when: date) -> int:
        """The day index of ``when`` (may fall outside the period)."""
        return (when - self.start).days

    def midnight(self, day: int) -> int:
        """Seconds since the epoch at 00:00 UTC of day ``day``."""
        return ((self.start - _EPOCH).days + day) * DAY

    def weekday(self, day: int) -> int:
        """0 for Monday through 6 for Sunday."""
        return self.date_of(day).weekday()

    def local(self, timezone: str, day: int, seconds: int) -> int:
        """Epoch seconds of ``seconds`` after local midnight of ``day`` in ``timezone``."""
        return self.midnight(day) + seconds - _utc_offset(timezone, self.date_of(day))

    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.date_of(self.days), time(), UTC)
