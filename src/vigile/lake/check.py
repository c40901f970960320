"""``vigile lake check``: every row of the lake against the ledger's leaf hashes.

Each row is the store's row of an event after its leaf index, so its ledger leaf is
rebuilt exactly (:func:`vigile.ledger.sql.event_leaf`: the activity-log object in
canonical JSON) and hashed; the hash must be the one the ledger recorded at that index
when the event was appended. A row changed in the lake (one byte is enough), moved to
another index, copied twice, or removed is named. That the ledger itself is intact
(its leaves against the signed checkpoints) is ``vigile ledger verify``'s to say: the
two together prove the lake against a checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy import Connection, Engine, select

from vigile.lake.errors import LakeError
from vigile.lake.export import DAY_US
from vigile.lake.layout import KINDS, Lake, Part, day_of, open_lake
from vigile.ledger.hashing import HASH_SIZE, leaf_hash
from vigile.ledger.sql import event_leaf
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["LakeCheck", "check_lake"]

MAX_PROBLEMS = 50  # named one by one; beyond, only counted

Progress = Callable[[int, int], None]


@dataclass(kw_only=True, slots=True)
class LakeCheck:
    """What the check read, and every problem found (the first ``MAX_PROBLEMS`` named)."""

    location: str
    parts: int = 0
    rows: int = 0
    exported_upto: int = 0  # the store's watermark for this lake
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def found(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "location": self.location, "ok": self.ok, "parts": self.parts, "rows": self.rows,
            "exported_upto": self.exported_upto, "problems": self.problems,
            "more_problems": self.more_problems, "seconds": round(self.seconds, 3),
        }  # fmt: skip


def check_lake(engine: Engine, location: str, *, progress: Progress | None = None) -> LakeCheck:
    """Check the lake at ``location`` against the ledger of the store behind ``engine``."""
    started = time.perf_counter()
    lake = open_lake(location)
    if lake.lake_id is None:
        raise LakeError(f"{location}: not a Vigile lake (no lake there yet)")
    report = LakeCheck(location=location)
    with connect(engine) as conn:
        table = t.lake_exports
        upto = conn.execute(select(table.c.leaf).where(table.c.lake == lake.lake_id)).scalar()
        if upto is None:
            raise LakeError(f"{location}: this store has no record of exporting this lake")
        report.exported_upto = int(upto)
        for part in lake.parts:  # every file is the lake's before any is read
            lake.check_schema(part)
        windows = groupby(sorted(lake.parts, key=lambda p: (p.first, p.last)), _window)
        for (_, last), parts in windows:
            _check_window(conn, lake, list(parts), report)
            if progress is not None:
                progress(min(last + 1, report.exported_upto), report.exported_upto)
        _check_coverage(lake, report)
    report.seconds = time.perf_counter() - started
    return report


def _window(part: Part) -> tuple[int, int]:
    return part.first, part.last


def _check_window(conn: Connection, lake: Lake, parts: list[Part], report: LakeCheck) -> None:
    """The parts of one export window against the ledger's leaves of that window."""
    first, last = parts[0].first, parts[0].last
    if last >= report.exported_upto:
        report.found(
            f"{parts[0].name}: leaves {first:,} to {last:,} are past the store's watermark "
            f"({report.exported_upto:,}): left by an interrupted export (the next export "
            "removes them) or added to the lake"
        )
        return
    recorded = _ledger_hashes(conn, first, last)
    seen = np.zeros(last - first + 1, dtype=bool)
    for part in parts:
        rows = pq.read_table(part.path, filesystem=lake.fs)
        report.parts += 1
        report.rows += rows.num_rows
        _check_part(part, rows, recorded, seen, report)
    for index in np.flatnonzero(~seen)[:MAX_PROBLEMS]:
        leaf = first + int(index)
        if leaf < first + len(recorded):
            report.found(f"leaf {leaf:,} is missing from the lake (window {first:,}-{last:,})")


def _check_part(
    part: Part, rows: pa.Table, recorded: list[bytes], seen: np.ndarray, report: LakeCheck
) -> None:
    table = KINDS[part.kind].name
    columns = [rows.column(name).to_pylist() for name in rows.column_names]
    first = part.first
    for number, values in enumerate(zip(*columns, strict=True)):
        leaf, event_id, time_us = values[0], values[2], values[3]
        where = f"{part.name} row {number} (event {event_id}, leaf {leaf:,})"
        if not first <= leaf <= part.last or leaf - first >= len(recorded):
            report.found(f"{where}: the leaf index is outside the part's window: moved")
            continue
        if day_of(time_us // DAY_US) != part.day:
            report.found(f"{where}: its time is not on {part.day}: moved or altered")
            continue
        if seen[leaf - first]:
            report.found(f"{where}: a second row for this leaf: copied")
            continue
        seen[leaf - first] = True
        if leaf_hash(event_leaf(table, values[1:])) != recorded[leaf - first]:
            report.found(f"{where}: does not match the ledger's leaf hash: altered in the lake")


def _ledger_hashes(conn: Connection, first: int, last: int) -> list[bytes]:
    """The recorded leaf hashes of leaves ``first`` to ``last``, in order."""
    entries = t.ledger_entries
    query = (
        select(entries.c.hashes)
        .where(entries.c.idx >= first, entries.c.idx <= last)
        .order_by(entries.c.idx)
    )
    return [bytes(row[0][:HASH_SIZE]) for row in conn.execute(query)]


def _check_coverage(lake: Lake, report: LakeCheck) -> None:
    """Every window the store says it exported has parts (an empty window has none, but
    its leaves are then missing and named per window only when some part exists)."""
    covered = sorted({(p.first, p.last) for p in lake.parts})
    expected = 0
    for first, last in covered:
        if first > expected:
            report.found(f"leaves {expected:,} to {first - 1:,} are missing from the lake")
        expected = max(expected, last + 1)
    if expected < report.exported_upto:
        report.found(
            f"leaves {expected:,} to {report.exported_upto - 1:,} are missing from the lake"
        )
