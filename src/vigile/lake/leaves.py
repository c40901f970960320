"""Where an event's ledger leaf index comes from: the one lookup the lake makes.

Today the write path appends an event's leaf in the transaction that stores it, and the
leaf index is the event's ``seq``; every stored event has its leaf. Once leaves are
given by an integrator shortly after the events are stored, only events already
integrated may go to the lake (a lake row must be provable), and their index is read
from wherever the store then keeps it: this module is the only place to change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, func, select

from vigile.ledger.sql import ledger_size
from vigile.store import tables as t

__all__ = ["earliest_time", "integrated", "leaf_of", "leaf_rows", "stored"]


def integrated(conn: Connection) -> int:
    """How many leaves the ledger holds: events with a leaf index below it are integrated."""
    return ledger_size(conn)


def stored(conn: Connection) -> int:
    """How many events the store holds, integrated or not (``seq`` counts from 0)."""
    tops = conn.execute(
        select(func.max(t.EVENT_TABLES[0].c.seq)).union_all(
            *(select(func.max(table.c.seq)) for table in t.EVENT_TABLES[1:])
        )
    ).scalars()
    return max((int(top) + 1 for top in tops if top is not None), default=0)


def leaf_of(table: Table) -> ColumnElement[int]:
    """The leaf index of each event of ``table``: the one lookup to change when the
    index is kept elsewhere (a column the integrator fills, or a join)."""
    return table.c.seq


def leaf_rows(table: Table, first: int, last: int) -> Select[Any]:
    """``(leaf index, *the table's columns)`` of its events with a leaf index in
    ``[first, last]``, in leaf order."""
    leaf = leaf_of(table)
    return (
        select(leaf.label("leaf"), *table.columns).where(leaf >= first, leaf <= last).order_by(leaf)
    )


def earliest_time(conn: Connection, first: int, last: int) -> int | None:
    """The earliest ``time_us`` of the events with a leaf index in ``[first, last]``."""
    earliest = [
        select(func.min(table.c.time_us)).where(leaf_of(table).between(first, last))
        for table in t.EVENT_TABLES
    ]
    times = conn.execute(earliest[0].union_all(*earliest[1:])).scalars()
    return min((int(time) for time in times if time is not None), default=None)
