"""Group commit: many requests' events recorded in one durable transaction.

Each request hands its events to :meth:`GroupCommitter.record` and waits. One writer
thread takes everything queued, records it with :class:`~vigile.record.Recorder` (events
and ledger leaves in one transaction) and wakes every waiter: with the result, or with
the error, so a request whose events were not recorded fails instead of answering. When
a shared transaction fails, each request in it is recorded again on its own, so one
request's bad row fails that request only.

The writer is the one serial step, and it shares the interpreter lock with the request
threads: each request turns its events into rows and leaf hashes (:func:`prepare`)
before queueing them, so the writer only numbers, inserts and commits.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future

from vigile.errors import StoreLocked
from vigile.ledger.leaves import QueuedLeaf
from vigile.model import Record
from vigile.record.recorder import Recorded, Recorder
from vigile.record.writer import Prepared, prepare

__all__ = ["GroupCommitter"]

_Item = tuple[list[Prepared], "Future[Recorded | None]"]


class GroupCommitter:
    """Records events for many threads, one transaction per batch.

    ``on_commit`` is called after each durable batch (the broker wakes its integrator).
    """

    def __init__(
        self,
        recorder: Recorder,
        *,
        max_batch: int = 512,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.recorder = recorder
        self.on_commit = on_commit
        self.max_batch = max(1, max_batch)
        self.commits = 0
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def record(self, records: Sequence[Record]) -> Mapping[str, QueuedLeaf]:
        """Return once ``records`` are durable, with the queued leaf of each event stored
        (by event id; an event already stored has none); raise what recording raised
        otherwise."""
        if not records:
            return {}
        prepared = [prepare(record) for record in records]
        done: Future[Recorded | None] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the broker's recorder is closed")
            self._start()
            self._queue.put((prepared, done))
        recorded = done.result()
        if recorded is None:
            return {}
        mine = {values[1] for _table, values, _digest in prepared}
        return {key: leaf for key, leaf in recorded.leaves.items() if key in mine}

    def close(self) -> None:
        """Finish what is queued and stop the writer thread."""
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vigile-broker-commit")
            self._thread.daemon = True
            self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = self._drain(batch)
            self._commit(batch)
            if stop:
                return

    def _drain(self, batch: list[_Item]) -> bool:
        """Add what else is queued, up to ``max_batch`` events; True when told to stop."""
        size = len(batch[0][0])
        while size < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            batch.append(item)
            size += len(item[0])
        return False

    def _commit(self, batch: list[_Item]) -> None:
        prepared = [row for rows, _ in batch for row in rows]
        try:
            recorded = self.recorder.record_prepared(prepared)
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, StoreLocked):
                # One request, or a store nobody can write now: each retry would wait out
                # the lock timeout again.
                for _, done in batch:
                    done.set_exception(exc)
                return
            # The transaction rolled back whole: one request's bad row must not fail the
            # others that shared it, so each is recorded again in its own transaction.
            for item in batch:
                self._commit([item])
            return
        except BaseException as exc:  # every waiter must learn of the failure
            for _, done in batch:
                done.set_exception(exc)
            raise
        self.commits += 1
        if self.on_commit is not None:
            self.on_commit()
        for _, done in batch:
            done.set_result(recorded if isinstance(recorded, Recorded) else None)
