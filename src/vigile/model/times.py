"""RFC 3339 times, stored and compared in UTC.

The store keeps times as integer microseconds since the Unix epoch (UTC): exact, compact,
fast to index and to hand to DuckDB or Arrow, and identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["format_rfc3339", "from_micros", "parse_rfc3339", "to_micros"]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 time with an offset and return it in UTC.

    Raises ``ValueError`` with a short reason for anything else (no offset, a date only,
    ISO 8601 basic format...), which readers turn into a located error.
    """
    if _RFC3339.fullmatch(text) is None:
        raise ValueError(f"not an RFC 3339 time with an offset: {text!r}")
    if text[-1] == "Z" and text[10] == "T":  # the common case, already in UTC
        return datetime.fromisoformat(text)
    if text[-1] == "z":
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text.replace("t", "T")).astimezone(UTC)


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
