"""Record events as they happen (the broker's accesses, grant decisions, containment,
incident actions): each call one durable transaction, events and ledger leaves together.

Callers that record many events per second batch them into one call (group commit): the
cost of a commit is paid once per batch, not per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from vigile.ledger.hashing import leaf_hash
from vigile.ledger.service import Ledger
from vigile.ledger.sql import Border, event_leaf
from vigile.model import Record
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import write_transaction
from vigile.store.rows import COLUMNS, to_values
from vigile.store.writer import EventWriter, Prepared

__all__ = ["Recorded", "Recorder", "prepare"]

_EVENTS = frozenset(str(table.name) for table in t.EVENT_TABLES)
_IP = COLUMNS["accesses"].index("ip")


def prepare(record: Record) -> Prepared:
    """The row of a record and, for an event whose row is final, its leaf hash (the leaf
    does not include ``seq``, so it holds before numbering). Computed by whoever calls,
    outside the writer's transaction: ingest's decoding workers, the broker's request
    threads. An access without an address gets its session's at write time, and its leaf
    there."""
    table, values = to_values(record)
    if table not in _EVENTS or (table == "accesses" and values[_IP] is None):
        return table, values, None
    return table, values, leaf_hash(event_leaf(table, (0, *values[1:])))


@dataclass(frozen=True, slots=True)
class _Left:
    """Where a committed transaction left the store: its mark and the tree's border."""

    mark: tuple[int | None, int | None]
    border: Border


def _mark(conn: Connection) -> tuple[int | None, int | None]:
    """The last ledger entry and the last checkpoint: any other writer moves one of them
    (every stored event is a ledger entry, so ``seq`` follows the ledger's size)."""
    row = conn.exec_driver_sql(
        "SELECT (SELECT max(idx) FROM ledger_entries), (SELECT max(id) FROM ledger_checkpoints)"
    ).one()
    return row[0], row[1]


@dataclass(frozen=True, kw_only=True, slots=True)
class Recorded:
    """What one call stored: events numbered ``first_seq`` to ``last_seq`` (none when
    ``last_seq < first_seq``), and the events already stored before (same id)."""

    first_seq: int
    last_seq: int
    duplicates: int
    checkpointed: bool


class Recorder:
    """Appends records to a store and its ledger.

    With ``resume``, a recorder that calls often (the broker's group commit) remembers
    where its last transaction left the events and the tree, and goes on from there when
    one query shows nobody appended or signed since; otherwise it reads them again.
    """

    def __init__(self, store: Store, *, resume: bool = False) -> None:
        self.store = store
        self.ledger = Ledger(store.engine, store.settings)
        self._resume = resume
        self._left: _Left | None = None

    def record(self, records: Sequence[Record]) -> Recorded:
        """Store ``records`` in one transaction; returns once it is durable."""
        return self.record_prepared([prepare(record) for record in records])

    def record_prepared(self, prepared: Sequence[Prepared]) -> Recorded:
        """Store records already passed through :func:`prepare`, in one transaction;
        returns once it is durable."""
        left, self._left = self._left, None  # forgotten unless this commit succeeds
        with write_transaction(self.store.engine) as conn:
            mark = _mark(conn) if self._resume else None
            going_on = left is not None and left.mark == mark
            ledger = self.ledger.writer(conn, left.border if going_on and left else None)
            before = ledger.checkpointed
            first_seq = ledger.size if going_on else None
            writer = EventWriter(conn, ledger, first_seq=first_seq)
            writer.write(prepared)
            ledger.flush()
            ledger.checkpoint_if_due()
            checkpointed = ledger.checkpointed != before
            if self._resume:
                # Our own appends move the last entry; only a checkpoint (rare) needs reading.
                last = ledger.size - 1 if ledger.size else None
                moved = _mark(conn) if checkpointed or mark is None else (last, mark[1])
                after = _Left(mark=moved, border=ledger.border)
        if self._resume:
            self._left = after
        if checkpointed:
            self.ledger.publish()
        return Recorded(
            first_seq=writer.first_seq,
            last_seq=writer.seq - 1,
            duplicates=writer.duplicates,
            checkpointed=checkpointed,
        )
