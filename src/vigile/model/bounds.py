"""The range of the whole numbers Vigile stores and is asked for, as a constant and as
an annotated type.

The HTTP API and the console declare their number parameters with these types: pydantic
checks them, so a value out of range is a 422 naming the parameter, never an overflow
in a database driver (a signed 64-bit integer is the widest column on SQLite and
PostgreSQL alike) or in ``datetime``. Times are bounded in :mod:`vigile.model.times`
(:data:`~vigile.model.times.EARLIEST_US` to :data:`~vigile.model.times.LATEST_US`).
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

__all__ = ["INT64_MAX", "RowNumber"]

#: The largest signed 64-bit integer: SQLite's INTEGER, PostgreSQL's BIGINT.
INT64_MAX = 2**63 - 1

#: A row's number or a count of entries (an alert's id, a tree size): 1 to 2**63 - 1.
RowNumber = Annotated[int, Interval(ge=1, le=INT64_MAX)]
