"""The one write path: records into the store and the ledger, each call one durable
transaction, events and their ledger leaves together.

Everything that writes goes through a :class:`Recorder`: the broker's accesses, grant
decisions and containment (batched by :class:`~vigile.record.GroupCommitter`), incident
actions, the console, and ``vigile ingest`` (a whole file per transaction, with
:meth:`Recorder.record_stream`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from vigile.ledger.service import Ledger
from vigile.ledger.sql import Border
from vigile.model import Record
from vigile.record.writer import EventWriter, Prepared, prepare
from vigile.store import Store
from vigile.store.engine import write_transaction
from vigile.store.writes import deferred_indexes

__all__ = ["Recorded", "Recorder"]


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
    ``last_seq < first_seq``), the events already stored before (same id), and the
    events stored and directory records upserted, by table."""

    first_seq: int
    last_seq: int
    duplicates: int
    checkpointed: bool
    stored: Mapping[str, int] = field(default_factory=dict)
    upserted: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, writer: EventWriter, *, checkpointed: bool) -> Recorded:
        return cls(
            first_seq=writer.first_seq,
            last_seq=writer.seq - 1,
            duplicates=writer.duplicates,
            checkpointed=checkpointed,
            stored=dict(writer.stored),
            upserted=dict(writer.upserted),
        )


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
        return Recorded.of(writer, checkpointed=checkpointed)

    def record_stream(
        self,
        batches: Iterable[Sequence[Prepared]],
        *,
        expected: int = 0,
        after_batch: Callable[[], None] | None = None,
    ) -> Recorded:
        """Store every batch in one transaction (a file's load: all or nothing) and sign
        a checkpoint of what it added. ``expected``, the number of events the batches
        probably hold, lets a large load into a small SQLite store build its indexes
        once at the end. Anything the batches raise rolls the whole load back."""
        self._left = None  # a resuming recorder reads the tree again after this
        with write_transaction(self.store.engine) as conn:
            writer = EventWriter(conn, self.ledger.writer(conn))
            with deferred_indexes(conn, expected, writer.first_seq):
                for batch in batches:
                    writer.write(batch)
                    if after_batch is not None:
                        after_batch()
            writer.finish()
        self.ledger.publish()
        return Recorded.of(writer, checkpointed=writer.seq > writer.first_seq)
