"""The integrator: extends the tree from the stored leaves, apart from the requests.

Requests store their events and leaf hashes (:mod:`vigile.ledger.leaves`) and are
answered; the integrator takes the leaves past the tree's size, in index order, appends
them (``ledger_entries``), signs checkpoints when due, and commits, one batch per
transaction (:func:`vigile.store.engine.integration_transaction`: one integrator at a
time). Killed mid-batch, its transaction rolls back whole: the next one starts again
from the stored size, so nothing is lost and nothing is integrated twice.

:class:`Integrator` is the pure bookkeeping over a store; :mod:`vigile.ledger.running`
runs it: in a thread of ``vigile serve``, or as ``vigile ledger integrate``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from vigile.ledger.leaves import QueuedLeaf, pending_leaves
from vigile.ledger.sql import Border, LedgerWriter
from vigile.store.engine import integration_transaction

__all__ = ["DelayStats", "Integrated", "Integrator"]

#: ``make_writer(conn, border)``: a ledger writer in ``conn``'s transaction.
WriterFactory = Callable[[Connection, Border | None], LedgerWriter]
_DELAYS_KEPT = 100_000


@dataclass(frozen=True, kw_only=True, slots=True)
class Integrated:
    """One batch: entries ``first`` to ``size - 1`` added, and the longest any of them
    waited between being stored and being integrated, in seconds (``None`` when none
    carries its storage time)."""

    first: int
    size: int
    checkpointed: bool
    longest_wait: float | None

    @property
    def entries(self) -> int:
        return self.size - self.first


class DelayStats:
    """How long leaves waited for integration: the last 100,000, for percentiles."""

    def __init__(self) -> None:
        self._waits: deque[float] = deque(maxlen=_DELAYS_KEPT)
        self._lock = threading.Lock()
        self.entries = 0
        self.batches = 0
        self.longest = 0.0

    def add(self, waits: list[float]) -> None:
        with self._lock:
            self._waits.extend(waits)
            self.entries += len(waits)
            self.batches += 1
            if waits:
                self.longest = max(self.longest, *waits)

    def percentile(self, fraction: float) -> float | None:
        """The wait under which ``fraction`` of the recent leaves were integrated."""
        with self._lock:
            waits = sorted(self._waits)
        if not waits:
            return None
        return waits[min(len(waits) - 1, int(fraction * len(waits)))]


class Integrator:
    """Integrates the leaves of one store, batch by batch.

    It remembers the tree (its compact range) and the latest checkpoint as its last
    batch left them, and goes on from there when the stored size and checkpoints show
    nobody else integrated since; otherwise it reads them again.
    """

    def __init__(
        self,
        engine: Engine,
        make_writer: WriterFactory,
        *,
        batch: int,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.make_writer = make_writer
        self.batch = max(1, batch)
        self.wall_clock = wall_clock
        self.delays = DelayStats()
        self._left: tuple[tuple[int | None, int | None], Border] | None = None

    def integrate(self, *, checkpoint: bool = False) -> list[Integrated]:
        """Integrate every leaf stored so far; with ``checkpoint``, end with a checkpoint
        of the whole tree (unless the latest already covers it)."""
        done: list[Integrated] = []
        while True:
            last = self.step(force_checkpoint=False)
            if last is None:
                break
            done.append(last)
            if last.entries < self.batch:
                break
        if checkpoint:
            self.step(force_checkpoint=True)
        return done

    def step(self, *, force_checkpoint: bool = False) -> Integrated | None:
        """One batch (one transaction); ``None`` when nothing was pending. With
        ``force_checkpoint``, a checkpoint is signed if the latest is not current."""
        left, self._left = self._left, None  # forgotten unless this batch commits
        with integration_transaction(self.engine) as conn:
            mark = _mark(conn)
            border = left[1] if left is not None and left[0] == mark else None
            writer = self.make_writer(conn, border)
            before = writer.checkpointed
            first = writer.size
            leaves = pending_leaves(conn, first, self.batch)
            for leaf in leaves:
                writer.append_leaf_hash(leaf.hash)
            writer.flush()
            current = mark[1] is not None and writer.checkpointed == writer.size
            if force_checkpoint and not current:
                writer.checkpoint()
            else:
                writer.checkpoint_if_due()
            checkpointed = writer.checkpointed != before
            moved = (
                _mark(conn) if checkpointed else (writer.size - 1 if writer.size else None, mark[1])
            )
            after = (moved, writer.border)
        self._left = after
        if not leaves and not checkpointed:
            return None
        return Integrated(
            first=first,
            size=first + len(leaves),
            checkpointed=checkpointed,
            longest_wait=self._measure(leaves),
        )

    def _measure(self, leaves: list[QueuedLeaf]) -> float | None:
        now_us = int(self.wall_clock() * 1_000_000)
        waits = [(now_us - leaf.time_us) / 1e6 for leaf in leaves if leaf.time_us is not None]
        if leaves:
            self.delays.add(waits)
        return max(waits) if waits else None


def _mark(conn: Connection) -> tuple[int | None, int | None]:
    """The last ledger entry and the last checkpoint: another integrator moves one."""
    row = conn.exec_driver_sql(
        "SELECT (SELECT max(idx) FROM ledger_entries), (SELECT max(id) FROM ledger_checkpoints)"
    ).one()
    return row[0], row[1]
