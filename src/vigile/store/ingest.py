"""Ingest an activity log into the store: all or nothing, idempotent, streaming.

One transaction per file: any invalid line (unless ``skip_invalid``) or database error
rolls everything back. Events are deduplicated by id (within the file and against the
store) before they get their ``seq``, so the order of recording has no gaps; directory
records are upserted by id, a version older than the stored one being ignored.
"""

from __future__ import annotations

import time
from operator import itemgetter
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from vigile.activitylog.reader import ActivityLogReader
from vigile.model import Access, Action, Record, SignIn
from vigile.model.times import to_micros
from vigile.store import tables as t
from vigile.store.engine import translate_errors
from vigile.store.rows import TABLE_OF, to_row

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
_SESSION_MEMORY = 1_000_000  # sessions whose sign-in address we remember while reading


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
    """The ``seq`` the next recorded event gets."""
    highest = 0
    for table in t.EVENT_TABLES:
        value = conn.execute(select(func.max(table.c.seq))).scalar()
        highest = max(highest, value or 0)
    return highest + 1


def ingest_file(
    engine: Engine,
    path: Path,
    *,
    skip_invalid: bool = False,
    batch: int = 5_000,
    progress: Progress | None = None,
) -> IngestSummary:
    """Store every record of the activity log at ``path`` in one transaction."""
    started = time.perf_counter()
    reader = ActivityLogReader(path, skip_invalid=skip_invalid)
    with translate_errors(engine.url), engine.begin() as conn:
        writer = _BatchWriter(conn, next_seq(conn))
        pending: list[Record] = []
        for record in reader:
            pending.append(record)
            if len(pending) >= batch:
                writer.write(pending)
                pending = []
                if progress is not None:
                    progress(reader.position, reader.size)
        writer.write(pending)
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


class _BatchWriter:
    """Writes batches of records on one connection, assigning ``seq`` to new events."""

    def __init__(self, conn: Connection, first_seq: int) -> None:
        self.conn = conn
        self.first_seq = first_seq
        self.seq = first_seq
        self.stored: Counter[str] = Counter()
        self.upserted: Counter[str] = Counter()
        self.duplicates = 0
        self.session_ips: dict[str, str] = {}
        self._upsert = _upsert_for(conn.dialect.name)
        self._inserts: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {}

    def write(self, records: list[Record]) -> None:
        directory: dict[Table, dict[str, dict[str, Any]]] = {}
        events: list[Record] = []
        for record in records:
            table = TABLE_OF[type(record)]
            if table in t.EVENT_TABLES:
                events.append(record)
            else:
                directory.setdefault(table, {})[record.id] = to_row(record)
        for table, rows in directory.items():
            self._upsert(self.conn, table, list(rows.values()))
            self.upserted[table.name] += len(rows)
        self._append(events)

    def _append(self, events: list[Record]) -> None:
        fresh = self._unseen(events)
        self.duplicates += len(events) - len(fresh)
        rows: dict[Table, list[dict[str, Any]]] = {}
        searches: list[dict[str, Any]] = []
        addresses = self._session_addresses(fresh)
        for record in fresh:
            table = TABLE_OF[type(record)]
            row = to_row(record, self.seq)
            if isinstance(record, Access):
                if record.ip is None:
                    row["ip"] = addresses.get(record.session)
                if record.action is Action.CUSTOMER_SEARCH:
                    searches.extend(_search_rows(record, self.seq))
            rows.setdefault(table, []).append(row)
            self.seq += 1
        for table, batch in rows.items():
            self._insert(table, batch)
            self.stored[table.name] += len(batch)
        if searches:
            self._insert(t.search_results, searches)

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """executemany straight to the driver: SQLAlchemy's per-row processing would
        cost more than the insert itself, and these columns need no conversion."""
        sql, pick = self._inserts.get(table.name) or self._prepare(table)
        self.conn.exec_driver_sql(sql, [pick(row) for row in rows])

    def _prepare(self, table: Table) -> tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
        names = [c.name for c in table.columns]
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        quoted = ", ".join(f'"{n}"' for n in names)
        sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join([mark] * len(names))})'
        getter = itemgetter(*names)
        self._inserts[table.name] = (sql, getter)
        return sql, getter

    def _unseen(self, events: list[Record]) -> list[Record]:
        """Events whose id is neither earlier in this batch nor already stored."""
        by_table: dict[Table, dict[str, Record]] = {}
        for record in events:
            by_table.setdefault(TABLE_OF[type(record)], {}).setdefault(record.id, record)
        known: set[str] = set()
        for table, chosen in by_table.items():
            query = select(table.c.id).where(table.c.id.in_(list(chosen)))
            known.update(self.conn.execute(query).scalars())
        fresh: list[Record] = []
        for record in events:
            chosen_one = by_table[TABLE_OF[type(record)]].get(record.id)
            if chosen_one is record and record.id not in known:
                fresh.append(record)
        return fresh

    def _session_addresses(self, events: list[Record]) -> dict[str, str]:
        """Sign-in address of each session, to copy to its accesses that have none (spec)."""
        ips = self.session_ips
        missing: set[str] = set()
        for record in events:
            if isinstance(record, SignIn) and record.outcome == "success":
                if len(ips) >= _SESSION_MEMORY:
                    ips.clear()
                ips.setdefault(record.session, record.ip)
            elif isinstance(record, Access) and record.ip is None and record.session not in ips:
                missing.add(record.session)
        if missing:
            ips.update(self._stored_session_ips(missing))
        return ips

    def _stored_session_ips(self, sessions: Iterable[str]) -> dict[str, str]:
        query = (
            select(t.signins.c.session, t.signins.c.ip)
            .where(t.signins.c.session.in_(list(sessions)), t.signins.c.outcome == "success")
            .order_by(t.signins.c.seq.desc())
        )
        return {session: ip for session, ip in self.conn.execute(query)}


def _search_rows(record: Access, seq: int) -> list[dict[str, Any]]:
    moment = to_micros(record.time)
    return [
        {"customer": customer, "time_us": moment, "access_seq": seq}
        for customer in dict.fromkeys(record.results)
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
