"""RFC 3339 times, stored and compared in UTC.

The store keeps times as integer microseconds since the Unix epoch (UTC): exact, compact,
fast to index and to hand to DuckDB or Arrow, and identical on SQLite and PostgreSQL.

Every time Vigile takes, from a file or a request, lies within years 1 to 9999 once in
UTC (:data:`EARLIEST` to :data:`LATEST`, what ``datetime`` holds): its microseconds
(:data:`EARLIEST_US` to :data:`LATEST_US`) then fit a signed 64-bit integer with room to
spare. :func:`parse_rfc3339` refuses anything else with a ``ValueError``, as it refuses
text that is not a time; the HTTP API and the console bound their time parameters with
these same constants.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "EARLIEST",
    "EARLIEST_US",
    "LATEST",
    "LATEST_US",
    "format_rfc3339",
    "from_micros",
    "parse_rfc3339",
    "to_micros",
]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The first and the last moment a time can be, in UTC.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 time with an offset and return it in UTC.

    Raises ``ValueError`` with a short reason for anything else (no offset, a date only,
    ISO 8601 basic format..., a time outside years 1-9999 once in UTC), which readers
    turn into a located error and the API into a 422 naming the parameter.
    """
    if _RFC3339.fullmatch(text) is None:
        raise ValueError(f"not an RFC 3339 time with an offset: {text!r}")
    if text[-1] == "Z" and text[10] == "T":  # the common case, already in UTC
        return datetime.fromisoformat(text)
    if text[-1] == "z":
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text.replace("t", "T")).astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is in year 10000 in UTC
        raise ValueError(f"{text!r} is out of range once converted to UTC") from None


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """The UTC datetime of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def format_rfc3339(moment: datetime) -> str:
    """``2021-05-20T14:03:11Z`` (with microseconds only when there are some)."""
    utc = moment.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


#: :data:`EARLIEST` and :data:`LATEST` in microseconds since the epoch.
EARLIEST_US = to_micros(EARLIEST)
LATEST_US = to_micros(LATEST)
