"""The one write path: records into the store, each call one durable transaction,
events and their queued ledger leaves together.

Everything that writes goes through a :class:`Recorder`: the broker's accesses, grant
decisions and containment (batched by :class:`~vigile.record.GroupCommitter`), incident
actions, the console, and ``vigile ingest`` (a whole file per transaction, with
:meth:`Recorder.record_stream`). The tree is extended from the queued leaves by the
ledger's integrator (:mod:`vigile.ledger.integrate`): right after each commit when the
recorder integrates (``VIGILE_INTEGRATOR=embedded``, outside the broker), else by an
integrator of its own (``vigile serve``'s thread, ``vigile ledger integrate``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from vigile.ledger.leaves import LeafQueue, QueuedLeaf
from vigile.ledger.service import Ledger
from vigile.model import Record
from vigile.record.writer import EventWriter, Prepared, prepare
from vigile.store import Store
from vigile.store.engine import write_transaction
from vigile.store.writes import deferred_indexes

__all__ = ["Recorded", "Recorder"]


@dataclass(frozen=True, slots=True)
class _Left:
    """Where this recorder's last commit left the queue: its last leaf (``None``: empty)."""

    last: int | None


def _last_leaf(conn: Connection) -> int | None:
    """The last queued leaf: any other writer of events moves it (every stored event has
    its leaf, so ``seq`` follows)."""
    value = conn.exec_driver_sql("SELECT max(idx) FROM ledger_leaves").scalar()
    return None if value is None else int(value)


@dataclass(frozen=True, kw_only=True, slots=True)
class Recorded:
    """What one call stored: events numbered ``first_seq`` to ``last_seq`` (none when
    ``last_seq < first_seq``), the events already stored before (same id), the events
    stored and directory records upserted, by table, and (for :meth:`Recorder.record`)
    each stored event's queued leaf by event id. ``checkpointed``: the integration that
    followed signed a checkpoint."""

    first_seq: int
    last_seq: int
    duplicates: int
    checkpointed: bool
    stored: Mapping[str, int] = field(default_factory=dict)
    upserted: Mapping[str, int] = field(default_factory=dict)
    leaves: Mapping[str, QueuedLeaf] = field(default_factory=dict)

    @classmethod
    def of(cls, writer: EventWriter, *, checkpointed: bool) -> Recorded:
        return cls(
            first_seq=writer.first_seq,
            last_seq=writer.seq - 1,
            duplicates=writer.duplicates,
            checkpointed=checkpointed,
            stored=dict(writer.stored),
            upserted=dict(writer.upserted),
            leaves=dict(writer.queued or {}),
        )


class Recorder:
    """Appends records to a store, their leaves queued for the ledger.

    With ``resume``, a recorder that calls often (the broker's group commit) remembers
    where its last transaction left the queue, and goes on from there when one query
    shows nobody stored since; otherwise it reads the event tables again.
    ``integrate``: extend the tree right after each commit (default: when
    ``VIGILE_INTEGRATOR`` is ``embedded``); the broker leaves it to its integrator.
    """

    def __init__(
        self, store: Store, *, resume: bool = False, integrate: bool | None = None
    ) -> None:
        self.store = store
        self.ledger = Ledger(store.engine, store.settings)
        self.integrate = store.settings.integrator == "embedded" if integrate is None else integrate
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
            going_on = left is not None and left.last == _last_leaf(conn)
            size = None if left is None or not going_on else _size(left.last)
            leaves = LeafQueue(conn, time_us=_now_us(), size=size)
            writer = EventWriter(conn, leaves, known=going_on, track=True)
            writer.write(prepared)
            after = _Left(last=leaves.size - 1 if leaves.size else None)
        if self._resume:
            self._left = after
        return Recorded.of(writer, checkpointed=self._integrated(checkpoint=False))

    def record_stream(
        self,
        batches: Iterable[Sequence[Prepared]],
        *,
        expected: int = 0,
        after_batch: Callable[[], None] | None = None,
    ) -> Recorded:
        """Store every batch in one transaction (a file's load: all or nothing), then (when
        integrating) extend the tree and sign a checkpoint of what it added. ``expected``,
        the number of events the batches probably hold, lets a large load into a small
        SQLite store build its indexes once at the end. Anything the batches raise rolls
        the whole load back."""
        self._left = None  # a resuming recorder reads the event tables again after this
        with write_transaction(self.store.engine) as conn:
            writer = EventWriter(conn, LeafQueue(conn, time_us=_now_us()))
            with deferred_indexes(conn, expected, writer.first_seq):
                for batch in batches:
                    writer.write(batch)
                    if after_batch is not None:
                        after_batch()
        added = writer.seq > writer.first_seq
        return Recorded.of(writer, checkpointed=self._integrated(checkpoint=added))

    def _integrated(self, *, checkpoint: bool) -> bool:
        """Integrate what is stored, if this recorder integrates; whether a checkpoint
        was signed."""
        if not self.integrate:
            return False
        done = self.ledger.integrate(checkpoint=checkpoint)
        return checkpoint or any(batch.checkpointed for batch in done)


def _size(last: int | None) -> int:
    return 0 if last is None else last + 1


def _now_us() -> int:
    return time.time_ns() // 1_000
