"""Ingest an activity log: read it, in time order, into the one write path.

One transaction per file (:meth:`vigile.record.Recorder.record_stream`): any invalid
line (unless ``skip_invalid``) or database error rolls everything back. Events are
deduplicated by id (within the file and against the store) before they get their
``seq``, so the order of recording has no gaps; directory records are upserted by id, a
version older than the stored one being ignored.

Speed, measured in ``benchmarks/bench_ingest.py``: decoding runs in a worker process
while this one writes (large files only), rows travel as tuples, inserts go straight to
the driver, and a large load into a small SQLite store builds its secondary indexes once
at the end instead of row by row (DDL is transactional there, so all-or-nothing holds).
"""

from __future__ import annotations

import heapq
import multiprocessing
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

from vigile.activitylog.reader import ActivityLogReader, DecodedChunk
from vigile.record import Prepared, Recorded, Recorder, prepare
from vigile.sources import Identities, Source, VendorLogReader, load_identities
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.rows import COLUMNS

__all__ = ["IngestSummary", "Progress", "ingest_file"]

#: ``progress(done, total)`` in bytes of the input file.
Progress = Callable[[int, int], None]

_KIND_NAMES: Mapping[str, str] = {
    "agents": "agent",
    "customers": "customer",
    "contacts": "contact",
    "accounts": "account",
    "subscriptions": "subscription",
    "ticket_events": "ticket",
    "signins": "signin",
    "accesses": "access",
    "audit_events": "audit",
}
_EVENTS = frozenset(str(table.name) for table in t.EVENT_TABLES)
_TIME_AT = {table: COLUMNS[table].index("time_us") for table in _EVENTS if table in COLUMNS}
_RUN = 100_000  # records sorted in memory at once when a file is out of time order
_SPILL_BATCH = 5_000
_PARALLEL_FROM = 16 << 20  # bytes: below this a worker process costs more than it saves
_BYTES_PER_EVENT = 300  # to estimate a file's events from its size


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestSummary:
    """What one ingest did."""

    source: str
    lines: int
    records: int
    skipped: int
    stored: Mapping[str, int]
    duplicates: int
    upserted: Mapping[str, int]
    first_seq: int
    last_seq: int
    seconds: float
    reordered: bool = False  # the file was out of time order and was sorted first
    errors: tuple[str, ...] = field(default=())
    #: ``vigile`` for an activity log, else the vendor source's name (``okta``).
    format: str = "vigile"
    #: A vendor's records of types Vigile does not read, by type.
    unsupported: Mapping[str, int] = field(default_factory=dict)
    #: A vendor's records kept aside (actor not in the directory...), by reason...
    unmapped: Mapping[str, int] = field(default_factory=dict)
    #: ...and the first few of each reason, ``FILE:LINE: value``.
    unmapped_examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Fields of stored records left empty, the vendor's value having no Vigile
    #: equivalent (an Okta country name ISO 3166 does not list), by reason...
    lost: Mapping[str, int] = field(default_factory=dict)
    #: ...and the first few of each reason, ``FILE:LINE: value``.
    lost_examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def events_stored(self) -> int:
        return sum(self.stored.values())


def ingest_file(
    store: Store,
    path: Path,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    parallel: bool | None = None,
    source: Source[Any] | None = None,
) -> IngestSummary:
    """Store every record of the activity log at ``path`` in one transaction, each new
    event appended to the ledger in the same transaction, in time order.

    Records may come in any order (spec); events are numbered and appended in time order.
    A file already in order (the common case) is read once; one found out of order is
    rolled back and read again through a bounded-memory external sort. ``parallel``
    decodes in a worker process; by default only for large files.

    With ``source``, the file is that vendor's log (:mod:`vigile.sources`), its records
    mapped with the directory's identities as they stand when the ingest starts.
    """
    job = _Job(
        store=store,
        path=path,
        skip_invalid=skip_invalid,
        progress=progress,
        parallel=parallel,
        source=source,
        identities=load_identities(store) if source is not None else Identities(),
    )
    try:
        return job.run(sort=False)
    except _OutOfOrder:
        return job.run(sort=True)


class _OutOfOrder(Exception):
    """An event earlier than one before it: the file has to be sorted first."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Job:
    store: Store
    path: Path
    skip_invalid: bool
    progress: Progress | None
    parallel: bool | None
    source: Source[Any] | None
    identities: Identities

    def run(self, *, sort: bool) -> IngestSummary:
        started = time.perf_counter()
        reader = self._reader()
        use_pool = reader.size >= _PARALLEL_FROM if self.parallel is None else self.parallel
        batch = self.store.settings.ingest_batch
        # The chunks are closed before the pool, whatever stops the reading (an event
        # out of order included): a pool terminated with chunks in flight hangs.
        with (
            _decoder_pool(use_pool) as pool,
            closing(reader.decoded_chunks(batch, prepare=prepare, pool=pool)) as chunks,
        ):
            batches = _in_time_order(chunks, batch) if sort else _checked_order(chunks)
            recorded = Recorder(self.store).record_stream(
                batches,
                expected=reader.size // _BYTES_PER_EVENT,
                after_batch=self._progress(reader),
            )
        if self.progress is not None:
            self.progress(reader.size, reader.size)
        return _summary(self.path, reader, recorded, started, reordered=sort)

    def _reader(self) -> ActivityLogReader:
        if self.source is None:
            return ActivityLogReader(self.path, skip_invalid=self.skip_invalid)
        return VendorLogReader(
            self.path, self.source, self.identities, skip_invalid=self.skip_invalid
        )

    def _progress(self, reader: ActivityLogReader) -> Callable[[], None] | None:
        progress = self.progress
        if progress is None:
            return None
        return lambda: progress(reader.position, reader.size)


def _summary(
    path: Path, reader: ActivityLogReader, recorded: Recorded, started: float, *, reordered: bool
) -> IngestSummary:
    report = reader.report
    mapping = reader.mapping if isinstance(reader, VendorLogReader) else None
    return IngestSummary(
        source=str(path),
        lines=report.lines,
        records=report.records,
        skipped=report.skipped,
        stored={_KIND_NAMES[k]: v for k, v in recorded.stored.items()},
        duplicates=recorded.duplicates,
        upserted={_KIND_NAMES[k]: v for k, v in recorded.upserted.items()},
        first_seq=recorded.first_seq,
        last_seq=recorded.last_seq,
        seconds=time.perf_counter() - started,
        reordered=reordered,
        errors=tuple(str(e) for e in report.errors),
        format=reader.source.name if isinstance(reader, VendorLogReader) else "vigile",
        unsupported=dict(mapping.unsupported.most_common()) if mapping else {},
        unmapped=dict(mapping.unmapped.most_common()) if mapping else {},
        unmapped_examples={k: tuple(v) for k, v in mapping.examples.items()} if mapping else {},
        lost=dict(mapping.lost.most_common()) if mapping else {},
        lost_examples={k: tuple(v) for k, v in mapping.lost_examples.items()} if mapping else {},
    )


def _time_of(prepared: Prepared) -> int:
    """An event's time; directory records (no time needed) sort first."""
    table, values, _ = prepared
    return values[_TIME_AT[table]] if table in _TIME_AT else -1


def _checked_order(chunks: Iterable[DecodedChunk]) -> Iterator[list[Prepared]]:
    """The chunks' records as they come, as long as their times never go back."""
    latest = -1
    for chunk in chunks:
        for prepared in chunk.records:
            moment = _time_of(prepared)
            if 0 <= moment < latest:
                raise _OutOfOrder
            latest = max(latest, moment)
        yield chunk.records


def _in_time_order(chunks: Iterable[DecodedChunk], batch: int) -> Iterator[list[Prepared]]:
    """All records in time order (file order among equals), in batches, with at most
    ``_RUN`` records in memory: sorted runs spill to temporary files and are merged."""
    with tempfile.TemporaryDirectory(prefix="vigile-sort-") as folder:
        runs: list[Path] = []
        run: list[tuple[int, int, Prepared]] = []
        number = 0
        for chunk in chunks:
            for prepared in chunk.records:
                run.append((_time_of(prepared), number, prepared))
                number += 1
            if len(run) >= _RUN:
                runs.append(_spill(run, Path(folder) / f"run-{len(runs)}"))
                run = []
        runs.append(_spill(run, Path(folder) / f"run-{len(runs)}"))
        merged = heapq.merge(*(_unspill(path) for path in runs))
        while records := [item[2] for item in islice(merged, batch)]:
            yield records


def _spill(run: list[tuple[int, int, Prepared]], path: Path) -> Path:
    run.sort(key=lambda item: (item[0], item[1]))
    with path.open("wb") as out:
        for start in range(0, len(run), _SPILL_BATCH):
            pickle.dump(run[start : start + _SPILL_BATCH], out, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _unspill(path: Path) -> Iterator[tuple[int, int, Prepared]]:
    # Our own temporary files, written just above: unpickling them is safe.
    with path.open("rb") as spilled:
        while True:
            try:
                yield from pickle.load(spilled)  # noqa: S301
            except EOFError:
                return


@contextmanager
def _decoder_pool(wanted: bool) -> Iterator[Pool | None]:
    if not wanted:
        yield None
        return
    # spawn, not fork: the parent holds database connections a child must not share.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        yield pool
