"""``vigile lake export``: the events integrated in the ledger since the last export, as
Parquet parts of the lake, and the new watermark recorded in the store.

An export reads the events by windows of leaf indexes (``window`` leaves at a time), one
event table at a time, straight from the database cursor into Arrow, and writes one part
per kind and UTC day of each window. The watermark (the highest leaf exported) is written
to the store only once every part is: an export interrupted half-way leaves parts beyond
the watermark, which the next export removes before writing them again. Running it twice
adds nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy import Connection, Engine, create_engine, insert, select, update

from vigile.lake import leaves
from vigile.lake.errors import LakeError
from vigile.lake.layout import KINDS, Lake, Part, day_of, lake_schema, open_lake, part_name
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["LakeExport", "export_lake"]

DAY_US = 86_400_000_000
WINDOW = 1_000_000  # leaves per export window: a part holds at most this many rows
_FETCH = 50_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class LakeExport:
    """What an export did."""

    lake: str  # the lake's id (its marker)
    location: str
    events: int  # events written
    parts: int  # files written
    removed: int  # parts of an interrupted export removed
    exported_upto: int  # the watermark: leaves [0, exported_upto) are in the lake
    waiting: int  # events stored but not integrated in the ledger yet: a later export
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "lake": self.lake, "location": self.location, "events": self.events,
            "parts": self.parts, "removed": self.removed,
            "exported_upto": self.exported_upto, "waiting": self.waiting,
            "seconds": round(self.seconds, 3),
        }  # fmt: skip


def export_lake(
    engine: Engine, location: str, *, window: int = WINDOW, progress: Progress | None = None
) -> LakeExport:
    """Export the integrated events not yet in the lake at ``location`` (made if new)."""
    started = time.perf_counter()
    lake = open_lake(location)
    with connect(engine) as conn:
        done = _watermark(conn, lake)
        top = leaves.integrated(conn)
        waiting = leaves.stored(conn) - top
        earliest = leaves.earliest_time(conn, done, top - 1) if top > done else None
    # Every check before the first write: a foreign part where this export will write
    # (a day from its earliest event on) is refused with the lake left as it was.
    orphans = [p for p in lake.parts if p.first >= done]
    kept = [p for p in lake.parts if p.first < done]
    if earliest is not None:
        first_day = day_of(earliest // DAY_US)
        for part in kept:
            if part.day >= first_day:
                lake.check_schema(part)
    lake_id = lake.lake_id or str(uuid.uuid4())
    if lake.lake_id is None:
        lake.write_marker(lake_id)
    for part in orphans:
        lake.fs.delete_file(part.path)
    events = parts = 0
    windows = [(first, min(first + window, top) - 1) for first in range(done, top, window)]
    with _Reader(engine, parallel=top - done >= _PARALLEL_FROM) as reader:
        for first, last, tables in reader.windows(windows):
            found = 0
            for kind, rows in tables.items():
                for day, rows_of_day in _days(rows):
                    folder = lake.path(f"kind={kind}", f"date={day}", part_name(first, last))
                    part = Part(kind=kind, day=day, first=first, last=last, path=folder)
                    _write(lake, part, rows_of_day)
                    parts += 1
                    found += rows_of_day.num_rows
            if found != last + 1 - first:  # every leaf is one event, of one kind
                raise LakeError(
                    f"leaves {first:,} to {last:,}: the store gave {found:,} events, not "
                    f"{last + 1 - first:,}; the watermark stays at {done:,}"
                )
            events += found
            if progress is not None:
                progress(last + 1 - done, top - done)
    with connect(engine) as conn, conn.begin():
        _set_watermark(conn, lake_id, lake.location, top)
    return LakeExport(
        lake=lake_id, location=lake.location, events=events, parts=parts,
        removed=len(orphans), exported_upto=top, waiting=waiting,
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def _watermark(conn: Connection, lake: Lake) -> int:
    """Leaves already in the lake (0: none), from the store's record of it."""
    if lake.lake_id is None:
        return 0
    table = t.lake_exports
    upto = conn.execute(select(table.c.leaf).where(table.c.lake == lake.lake_id)).scalar()
    if upto is None and lake.parts:
        raise LakeError(
            f"{lake.location}: this lake holds events this store has no record of "
            "exporting (another store's lake?): export to a new folder"
        )
    return 0 if upto is None else int(upto)


def _set_watermark(conn: Connection, lake_id: str, location: str, upto: int) -> None:
    table = t.lake_exports
    values = {"leaf": upto, "location": location, "updated_us": time.time_ns() // 1000}
    changed = conn.execute(update(table).where(table.c.lake == lake_id).values(**values))
    if changed.rowcount == 0:
        conn.execute(insert(table).values(lake=lake_id, **values))


_PARALLEL_FROM = 200_000  # leaves: below, starting reader processes costs more than it saves
_engines: dict[str, Engine] = {}  # in a reader process: its engine, made on first use


class _Reader:
    """Reads the windows' events, each window's next one read ahead: in reader processes
    when there are many (reading the store's rows is Python work, one core's worth per
    process; each process reads a share of each window, by leaf range), else here."""

    def __init__(self, engine: Engine, *, parallel: bool) -> None:
        url = engine.url
        in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
        self.engine = engine
        self.url = url.render_as_string(hide_password=False)
        self.workers = min(4, os.cpu_count() or 1) if parallel and not in_memory else 0
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Reader:
        if self.workers:
            # spawn, not fork: the parent may run threads (a progress bar) and holds
            # connections; a fresh interpreter holds neither.
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def windows(
        self, windows: list[tuple[int, int]]
    ) -> Iterator[tuple[int, int, dict[str, pa.Table]]]:
        if self.pool is None:
            with connect(self.engine) as conn:
                for first, last in windows:
                    yield first, last, {k: _read(conn, k, first, last) for k in KINDS}
            return
        pending = [self._submit(*w) for w in windows[:2]]
        for number, (first, last) in enumerate(windows):
            futures = pending.pop(0)
            if number + 2 < len(windows):
                pending.append(self._submit(*windows[number + 2]))
            tables = {
                kind: pa.concat_tables([future.result() for future in shares])
                for kind, shares in futures.items()
            }
            yield first, last, tables

    def _submit(self, first: int, last: int) -> dict[str, list[Future[pa.Table]]]:
        assert self.pool is not None
        size = (last - first) // self.workers + 1
        shares = [(low, min(low + size, last + 1) - 1) for low in range(first, last + 1, size)]
        return {
            kind: [self.pool.submit(_read_in_worker, self.url, kind, a, b) for a, b in shares]
            for kind in KINDS
        }


def _read_in_worker(url: str, kind: str, first: int, last: int) -> pa.Table:
    """In a reader process: the events of ``kind`` with leaves in ``[first, last]``."""
    engine = _engines.get(url) or _engines.setdefault(url, create_engine(url))
    with connect(engine) as conn:
        return _read(conn, kind, first, last)


def _read(conn: Connection, kind: str, first: int, last: int) -> pa.Table:
    """The events of ``kind`` with leaf indexes in ``[first, last]``, as the lake's rows."""
    # The DB-API cursor directly, rows converted to Arrow as structs in C++: SQLAlchemy's
    # rows would cost more than the whole export otherwise. (ADBC's SQLite driver fills
    # Arrow in C, but it links a second SQLite into the process, whose POSIX locks then
    # break the store's: it read stale pages from the write-ahead log in a test.)
    schema = lake_schema(kind)
    query = leaves.leaf_rows(KINDS[kind], first, last)
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    struct = pa.struct(list(schema))
    if conn.dialect.name == "sqlite":
        # Text as bytes: SQLite hands them over without decoding each into a str, and
        # Arrow checks the UTF-8 once, in C, when the column is cast back: a fifth less
        # of the export's time.
        names = ", ".join(
            f"CAST({f.name} AS BLOB)" if f.type == pa.string() else f.name for f in schema
        )
        sql = f"SELECT {names} FROM ({sql})"  # noqa: S608 - our columns and query
        struct = pa.struct([
            pa.field(f.name, pa.binary() if f.type == pa.string() else f.type) for f in schema
        ])  # fmt: skip
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    batches = []
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_FETCH):
            batches.append(pa.RecordBatch.from_struct_array(pa.array(rows, type=struct)))
    finally:
        cursor.close()
    return pa.Table.from_batches(batches, schema=pa.schema(list(struct))).cast(schema)


def _days(rows: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """The rows of each UTC day (``date=``), in leaf order within each. Leaves follow
    time closely (ingest numbers events in time order), so a day is mostly one run of
    rows: slices then, a stable sort only when days interleave."""
    if rows.num_rows == 0:
        return
    days = np.floor_divide(rows.column("time_us").to_numpy(), DAY_US)
    if (days[1:] < days[:-1]).any():
        order = np.argsort(days, kind="stable")
        rows, days = rows.take(order), days[order]
    starts = np.flatnonzero(np.diff(days)) + 1
    bounds = [0, *starts.tolist(), len(days)]
    for start, end in pairwise(bounds):
        yield day_of(int(days[start])), rows.slice(start, end - start)


def _write(lake: Lake, part: Part, rows: pa.Table) -> None:
    try:
        lake.fs.create_dir(part.path.rpartition("/")[0], recursive=True)
        pq.write_table(rows, part.path, filesystem=lake.fs, compression="zstd")
    except OSError as exc:
        raise LakeError(f"{lake.location}: cannot write {part.name}: {exc}") from exc
