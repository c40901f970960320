"""RFC 3339 times within the calendar: years 1 to 9999 once in UTC, their microseconds
within a signed 64-bit integer; anything else is a ``ValueError``, never an overflow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigile.model.bounds import INT64_MAX
from vigile.model.times import (
    EARLIEST,
    EARLIEST_US,
    LATEST,
    LATEST_US,
    from_micros,
    parse_rfc3339,
    to_micros,
)


def test_the_calendars_edges_fit_in_64_bits() -> None:
    assert datetime(1, 1, 1, tzinfo=UTC) == EARLIEST
    assert datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC) == LATEST
    assert -INT64_MAX - 1 < EARLIEST_US < 0 < LATEST_US < INT64_MAX
    assert (from_micros(EARLIEST_US), from_micros(LATEST_US)) == (EARLIEST, LATEST)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("0001-01-01T00:00:00Z", EARLIEST),
        ("0001-01-01T10:00:00+10:00", EARLIEST),
        ("9999-12-31T23:59:59.999999Z", LATEST),
        ("9999-12-31T13:59:59.999999-10:00", LATEST),
    ],
)
def test_the_edges_parse(text: str, moment: datetime) -> None:
    assert parse_rfc3339(text) == moment
    assert to_micros(parse_rfc3339(text)) in (EARLIEST_US, LATEST_US)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "0001-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
        "9999-12-31T23:59:59.999999-00:01",
    ],
)
def test_a_time_outside_the_calendar_once_in_utc_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="out of range once converted to UTC"):
        parse_rfc3339(text)
