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
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from vigile.activitylog.reader import ActivityLogReader
from vigile.ledger.service import Ledger
from vigile.ledger.sql import LedgerWriter, event_leaf
from vigile.settings import Settings
from vigile.store import tables as t
from vigile.store.engine import translate_errors
from vigile.store.rows import COLUMNS, to_values

__all__ = ["IngestSummary", "Progress", "ingest_file", "next_seq"]

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
}
_TABLES: Mapping[str, Table] = {table.name: table for table in t.metadata.tables.values()}
_EVENTS = frozenset(table.name for table in t.EVENT_TABLES)
_SESSION_MEMORY = 1_000_000  # sessions whose sign-in address we remember while reading
_PARALLEL_FROM = 16 << 20  # bytes: below this a worker process costs more than it saves
_BYTES_PER_EVENT = 300  # to estimate a file's events from its size

_A = {name: i for i, name in enumerate(COLUMNS["accesses"])}
_S = {name: i for i, name in enumerate(COLUMNS["signins"])}


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


def next_seq(conn: Connection) -> int:
    """The ``seq`` the next recorded event gets: 0 in an empty store."""
    highest = -1
    for table in t.EVENT_TABLES:
        value = conn.execute(select(func.max(table.c.seq))).scalar()
        highest = max(highest, -1 if value is None else value)
    return highest + 1


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
    with translate_errors(engine.url), _decoder_pool(use_pool) as pool, engine.begin() as conn:
        writer = _BatchWriter(conn, next_seq(conn), ledger.writer(conn))
        with _deferred_indexes(conn, reader.size // _BYTES_PER_EVENT, writer.first_seq):
            chunks = reader.decoded_chunks(settings.ingest_batch, prepare=to_values, pool=pool)
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


Values = tuple[Any, ...]


class _BatchWriter:
    """Writes batches of ``(table, values)`` on one connection; new events get a ``seq``."""

    def __init__(self, conn: Connection, first_seq: int, ledger: LedgerWriter) -> None:
        self.conn = conn
        self.first_seq = first_seq
        self.seq = first_seq
        self.ledger = ledger
        ledger.catch_up(first_seq)
        self.stored: Counter[str] = Counter()
        self.upserted: Counter[str] = Counter()
        self.duplicates = 0
        self.session_ips: dict[str, str] = {}
        self._upsert = _upsert_for(conn.dialect.name)
        self._mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"

    def write(self, records: list[tuple[str, Values]]) -> None:
        directory: dict[str, dict[str, Values]] = {}
        events: list[tuple[str, Values]] = []
        for table, values in records:
            if table in _EVENTS:
                events.append((table, values))
            else:
                directory.setdefault(table, {})[values[0]] = values
        for table, rows in directory.items():
            columns = COLUMNS[table]
            self._upsert(
                self.conn,
                _TABLES[table],
                [dict(zip(columns, r, strict=True)) for r in rows.values()],
            )
            self.upserted[table] += len(rows)
        self._append(events)
        self.ledger.flush()
        self.ledger.checkpoint_if_due()

    def finish(self) -> None:
        """Flush the ledger and sign a checkpoint of what this ingest added."""
        self.ledger.flush()
        if self.seq > self.first_seq:
            self.ledger.checkpoint()

    def _append(self, events: list[tuple[str, Values]]) -> None:
        fresh = self._unseen(events)
        self.duplicates += len(events) - len(fresh)
        addresses = self._session_addresses(fresh)
        rows: dict[str, list[Values]] = {}
        searches: list[Values] = []
        seq = self.seq
        for table, values in fresh:
            row = values
            if table == "accesses":
                if row[_A["ip"]] is None:
                    row = _with(row, _A["ip"], addresses.get(row[_A["session"]]))
                if row[_A["results"]] is not None:
                    searches.extend(_search_rows(row, seq))
            row = (seq, *row[1:])
            rows.setdefault(table, []).append(row)
            self.ledger.append(event_leaf(table, row))
            seq += 1
        self.seq = seq
        for table, batch in rows.items():
            self._insert(table, COLUMNS[table], batch)
            self.stored[table] += len(batch)
        if searches:
            self._insert("search_results", ("customer", "time_us", "access_seq"), searches)

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[Values]) -> None:
        """executemany straight to the driver: SQLAlchemy's per-row processing would
        cost more than the insert itself, and these values need no conversion."""
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join([self._mark] * len(columns))
        sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - our own names
        self.conn.exec_driver_sql(sql, rows)

    def _unseen(self, events: list[tuple[str, Values]]) -> list[tuple[str, Values]]:
        """Events whose id is neither earlier in this batch nor already stored."""
        ids: dict[str, set[str]] = {}
        for table, values in events:
            ids.setdefault(table, set()).add(values[1])
        known: dict[str, set[str]] = {table: self._stored_ids(table, ids[table]) for table in ids}
        fresh: list[tuple[str, Values]] = []
        for table, values in events:
            seen = known[table]
            if values[1] not in seen:
                seen.add(values[1])
                fresh.append((table, values))
        return fresh

    def _stored_ids(self, table: str, ids: set[str]) -> set[str]:
        marks = ", ".join([self._mark] * len(ids))
        query = f'SELECT id FROM "{table}" WHERE id IN ({marks})'  # noqa: S608 - our own names
        return {row[0] for row in self.conn.exec_driver_sql(query, tuple(ids))}

    def _session_addresses(self, events: list[tuple[str, Values]]) -> dict[str, str]:
        """Sign-in address of each session, to copy to its accesses that have none (spec)."""
        ips = self.session_ips
        missing: set[str] = set()
        for table, values in events:
            if table == "signins" and values[_S["outcome"]] == "success":
                if len(ips) >= _SESSION_MEMORY:
                    ips.clear()
                ips.setdefault(values[_S["session"]], values[_S["ip"]])
            elif table == "accesses" and values[_A["ip"]] is None:
                missing.add(values[_A["session"]])
        missing -= ips.keys()
        if missing:
            ips.update(self._stored_session_ips(missing))
        return ips

    def _stored_session_ips(self, sessions: set[str]) -> dict[str, str]:
        query = (
            select(t.signins.c.session, t.signins.c.ip)
            .where(t.signins.c.session.in_(sessions), t.signins.c.outcome == "success")
            .order_by(t.signins.c.seq.desc())
        )
        return {row[0]: row[1] for row in self.conn.execute(query)}


def _with(values: Values, index: int, value: Any) -> Values:
    return (*values[:index], value, *values[index + 1 :])


def _search_rows(values: Values, seq: int) -> list[Values]:
    """One row per customer a search listed, so queries by customer find the search."""
    moment = values[_A["time_us"]]
    return [
        (customer, moment, seq) for customer in dict.fromkeys(orjson.loads(values[_A["results"]]))
    ]


_Upsert = Callable[[Connection, Table, list[dict[str, Any]]], None]


def _upsert_for(dialect: str) -> _Upsert:
    """INSERT ... ON CONFLICT (id) DO UPDATE, keeping a newer stored version."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        statement = make(table)
        excluded = statement.excluded
        newer_or_undated = (
            excluded.time_us.is_(None)
            | table.c.time_us.is_(None)
            | (excluded.time_us >= table.c.time_us)
        )
        columns = {c.name: excluded[c.name] for c in table.columns if c.name != "id"}
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.id], set_=columns, where=newer_or_undated
            ),
            rows,
        )

    return upsert
