"""Ingest an activity log into the store: all or nothing, idempotent, streaming.

One transaction per file: any invalid line (unless ``skip_invalid``) or database error
rolls everything back. Events are deduplicated by id (within the file and against the
store) before they get their ``seq``, so the order of recording has no gaps; directory
records are upserted by id, a version older than the stored one being ignored.

Speed, measured in ``benchmarks/bench_ingest.py``: decoding runs in a worker process
while this one writes (large files only), rows travel as tuples, inserts go straight to
the driver, and a large load into a small SQLite store builds its secondary indexes once
at the end instead of row by row (DDL is transactional there, so all-or-nothing holds).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path

from sqlalchemy import Connection, Engine

from vigile.activitylog.reader import ActivityLogReader
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.service import Ledger
from vigile.ledger.sql import event_leaf
from vigile.model import ActivityRecord
from vigile.settings import Settings
from vigile.store import tables as t
from vigile.store.engine import write_transaction
from vigile.store.rows import COLUMNS, to_values
from vigile.store.writer import EventWriter, Prepared

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
_IP = COLUMNS["accesses"].index("ip")
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
    errors: tuple[str, ...] = field(default=())

    @property
    def events_stored(self) -> int:
        return sum(self.stored.values())


def ingest_file(
    engine: Engine,
    path: Path,
    *,
    settings: Settings | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    parallel: bool | None = None,
) -> IngestSummary:
    """Store every record of the activity log at ``path`` in one transaction, each new
    event appended to the ledger in the same transaction.

    ``parallel`` decodes in a worker process; by default only for large files.
    """
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    reader = ActivityLogReader(path, skip_invalid=skip_invalid)
    use_pool = reader.size >= _PARALLEL_FROM if parallel is None else parallel
    ledger = Ledger(engine, settings)
    with _decoder_pool(use_pool) as pool, write_transaction(engine) as conn:
        writer = EventWriter(conn, ledger.writer(conn))
        with _deferred_indexes(conn, reader.size // _BYTES_PER_EVENT, writer.first_seq):
            chunks = reader.decoded_chunks(settings.ingest_batch, prepare=_prepare, pool=pool)
            for decoded in chunks:
                writer.write(decoded.records)
                if progress is not None:
                    progress(reader.position, reader.size)
        writer.finish()
    ledger.publish()
    if progress is not None:
        progress(reader.size, reader.size)
    report = reader.report
    return IngestSummary(
        source=str(path),
        lines=report.lines,
        records=report.records,
        skipped=report.skipped,
        stored={_KIND_NAMES[k]: v for k, v in writer.stored.items()},
        duplicates=writer.duplicates,
        upserted={_KIND_NAMES[k]: v for k, v in writer.upserted.items()},
        first_seq=writer.first_seq,
        last_seq=writer.seq - 1,
        seconds=time.perf_counter() - started,
        errors=tuple(str(e) for e in report.errors),
    )


def _prepare(record: ActivityRecord) -> Prepared:
    """The row of a record and, for an event whose row is final, its leaf hash: both
    computed in the decoding worker, in parallel with the writer. An access without an
    address gets its session's at write time, and its leaf there."""
    table, values = to_values(record)
    if table not in _EVENTS or (table == "accesses" and values[_IP] is None):
        return table, values, None
    return table, values, leaf_hash(event_leaf(table, (0, *values[1:])))


@contextmanager
def _decoder_pool(wanted: bool) -> Iterator[Pool | None]:
    if not wanted:
        yield None
        return
    # spawn, not fork: the parent holds database connections a child must not share.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        yield pool


@contextmanager
def _deferred_indexes(conn: Connection, expected: int, stored: int) -> Iterator[None]:
    """On SQLite, build the event tables' secondary indexes after a large load.

    Inserting into five B-trees per row costs more than sorting once at the end when
    the file holds more events than the store; a failure rolls the DDL back too.
    """
    if conn.dialect.name != "sqlite" or expected <= stored:
        yield
        return
    indexes = [index for table in t.EVENT_TABLES for index in table.indexes]
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)
