"""The leaves of stored events, queued for the integrator in ``ledger_leaves``.

The write path stores each new event's leaf hash beside it, in the same transaction
(:class:`LeafQueue`): that is all a request waits for. The integrator
(:mod:`vigile.ledger.integrate`) later reads the leaves past the tree's size
(:func:`pending_leaves`), in index order, and extends the tree from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from vigile.ledger.errors import LedgerError
from vigile.ledger.hashing import HASH_SIZE, leaf_hash
from vigile.ledger.sql import event_leaf
from vigile.store import tables as t
from vigile.store.writes import bulk_insert

__all__ = ["LeafQueue", "QueuedLeaf", "oldest_pending", "pending_leaves", "queued_size"]


@dataclass(frozen=True, kw_only=True, slots=True)
class QueuedLeaf:
    """A leaf as stored with its event: its index (the event's ``seq``), its RFC 9162
    leaf hash, and when it was stored (microseconds; ``None`` for leaves integrated
    before the queue existed)."""

    index: int
    hash: bytes
    time_us: int | None


def queued_size(conn: Connection) -> int:
    """Leaves stored: the ``seq`` the next event gets."""
    highest = conn.execute(select(func.max(t.ledger_leaves.c.idx))).scalar()
    return 0 if highest is None else int(highest) + 1


def pending_leaves(conn: Connection, start: int, limit: int) -> list[QueuedLeaf]:
    """Up to ``limit`` leaves from index ``start`` on, in order, stopping at the first
    gap (a leaf missing in the middle is an error: the table is append-only)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    rows = conn.exec_driver_sql(
        f"SELECT idx, hash, time_us FROM ledger_leaves WHERE idx >= {mark} "  # noqa: S608
        f"ORDER BY idx LIMIT {mark}",
        (start, limit),
    ).all()
    leaves = []
    for expected, row in enumerate(rows, start=start):
        if int(row[0]) != expected:
            raise LedgerError(
                f"leaf {expected:,} is missing from ledger_leaves while {int(row[0]):,} is "
                "there: a leaf was deleted (run `vigile ledger verify`)"
            )
        digest = bytes(row[1])
        if len(digest) != HASH_SIZE:
            raise LedgerError(f"leaf {expected:,} in ledger_leaves is not a SHA-256 hash")
        leaves.append(QueuedLeaf(index=expected, hash=digest, time_us=row[2]))
    return leaves


def oldest_pending(conn: Connection, size: int) -> QueuedLeaf | None:
    """The first leaf not yet in a tree of ``size`` leaves, if any."""
    found = pending_leaves(conn, size, 1)
    return found[0] if found else None


class LeafQueue:
    """Queues the leaves of newly stored events on one connection, in its transaction.

    ``time_us`` is the storage time every leaf of this transaction carries (the time
    its promise of inclusion vouches for).
    """

    def __init__(self, conn: Connection, *, time_us: int, size: int | None = None) -> None:
        """``size``: the leaves already queued, when the caller knows it (else read)."""
        self.conn = conn
        self.time_us = time_us
        self.size = queued_size(conn) if size is None else size
        self._pending: list[tuple[int, bytes, int]] = []

    def append_leaf_hash(self, digest: bytes) -> QueuedLeaf:
        """Queue a leaf by its RFC 9162 leaf hash."""
        index = self.size
        self._pending.append((index, digest, self.time_us))
        self.size += 1
        return QueuedLeaf(index=index, hash=digest, time_us=self.time_us)

    def append_event(self, table: str, row: tuple[Any, ...]) -> QueuedLeaf:
        """Queue the leaf of an event stored as ``row`` of ``table``."""
        return self.append_leaf_hash(leaf_hash(event_leaf(table, row)))

    def flush(self) -> None:
        bulk_insert(self.conn, "ledger_leaves", ("idx", "hash", "time_us"), self._pending)
        self._pending = []

    def check_complete(self, events_stored: int) -> None:
        """Refuse to write when the store and the queue disagree on how many events
        there are: every event enters both in one transaction of the write path, so a
        difference means rows were deleted from one, or inserted into the event tables
        outside Vigile (which the ledger must never sign as its own)."""
        if self.size > events_stored:
            raise LedgerError(
                f"the ledger holds {self.size:,} leaves but the store only "
                f"{events_stored:,} events: events were deleted (run `vigile ledger verify`)"
            )
        if self.size < events_stored:
            raise LedgerError(
                f"the store holds {events_stored - self.size:,} events the ledger does not "
                f"(from seq {self.size:,}): they were written outside Vigile's write path, "
                "and are not signed; nothing more is recorded until they are investigated "
                "(run `vigile ledger verify`)"
            )
