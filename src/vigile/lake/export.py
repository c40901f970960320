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

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy import Connection, Engine, insert, select, update

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
    lake_id = lake.lake_id or str(uuid.uuid4())
    if lake.lake_id is None:
        lake.write_marker(lake_id)
    orphans = [p for p in lake.parts if p.first >= done]
    for part in orphans:
        lake.fs.delete_file(part.path)
    kept = [p for p in lake.parts if p.first < done]
    checked: set[tuple[str, str]] = set()
    events = parts = 0
    with connect(engine) as conn:
        for first in range(done, top, window):
            last = min(first + window, top) - 1
            for kind in KINDS:
                for day, rows in _days(_read(conn, kind, first, last)):
                    if (kind, day) not in checked:  # a foreign file where we write: refuse
                        for part in kept:
                            if (part.kind, part.day) == (kind, day):
                                lake.check_schema(part)
                        checked.add((kind, day))
                    _write(lake, kind, day, first, last, rows)
                    events += rows.num_rows
                    parts += 1
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


def _read(conn: Connection, kind: str, first: int, last: int) -> pa.Table:
    """The events of ``kind`` with leaf indexes in ``[first, last]``, as the lake's rows.

    The DB-API cursor directly, rows converted to Arrow as structs in C++: SQLAlchemy's
    rows would cost more than the whole export otherwise."""
    schema = lake_schema(kind)
    query = leaves.leaf_rows(KINDS[kind], first, last)
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    struct = pa.struct(list(schema))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    batches = []
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_FETCH):
            batches.append(pa.RecordBatch.from_struct_array(pa.array(rows, type=struct)))
    finally:
        cursor.close()
    return pa.Table.from_batches(batches, schema=schema)


def _days(rows: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    """The rows of each UTC day (``date=``), in leaf order within each."""
    if rows.num_rows == 0:
        return
    days = np.floor_divide(rows.column("time_us").to_numpy(), DAY_US)
    if days[0] == days[-1] and (days == days[0]).all():
        yield day_of(int(days[0])), rows
        return
    for day in np.unique(days):
        yield day_of(int(day)), rows.take(np.flatnonzero(days == day))


def _write(lake: Lake, kind: str, day: str, first: int, last: int, rows: pa.Table) -> None:
    folder = lake.path(f"kind={kind}", f"date={day}")
    part = Part(kind=kind, day=day, first=first, last=last, path=f"{folder}/x")
    try:
        lake.fs.create_dir(folder, recursive=True)
        pq.write_table(
            rows, f"{folder}/{part_name(first, last)}", filesystem=lake.fs, compression="zstd"
        )
    except OSError as exc:
        raise LakeError(f"{lake.location}: cannot write {part.name}: {exc}") from exc
