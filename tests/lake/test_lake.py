"""`vigile lake export` and `vigile lake check`: the store's events as hive-partitioned
Parquet with their leaf index, exported incrementally, each row proven against the
ledger; a folder or a file that is not the lake's is refused with nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from vigile.cli.app import app
from vigile.ingest import ingest_file
from vigile.lake import MARKER, LakeError, check_lake, export_lake, lake_schema
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

AGENT = {
    "kind": "agent", "id": "a-1", "team": "billing", "country": "IE",
    "timezone": "Europe/Dublin",
    "shift": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "17:00"},
}  # fmt: skip


def _events(day: int, count: int, start: int = 0) -> list[dict[str, Any]]:
    """Sign-ins, accesses (a search with results, extra fields) and ticket steps on
    2021-05-``day``: integral floats and nulls included (the leaf must survive them)."""
    out: list[dict[str, Any]] = []
    for n in range(start, start + count):
        time = f"2021-05-{day:02d}T{8 + n % 10:02d}:{n % 60:02d}:00Z"
        out.append({
            "kind": "signin", "time": time, "id": f"s-{day}-{n}", "agent": "a-1",
            "session": f"x-{day}-{n}", "ip": "198.51.100.7", "country": "IE",
            "lat": 53.0, "lon": -6.25, "outcome": "success",
        })  # fmt: skip
        access = {
            "kind": "access", "time": time, "id": f"e-{day}-{n}", "agent": "a-1",
            "session": f"x-{day}-{n}", "action": "customer.view", "customer": f"c-{n % 7}",
            "fields": ["customer.name"], "outcome": "allowed",
            "reason": "customer_initiated_support", "ticket": f"T-{n}",
            "note": {"n": n, "ok": True},
        }  # fmt: skip
        if n % 3 == 0:
            access |= {"action": "customer.search", "query": "ann", "customer": None,
                       "results": [f"c-{n % 7}", "c-9"]}  # fmt: skip
            del access["customer"]
        out.append(access)
        out.append({"kind": "ticket", "time": time, "ticket": f"T-{n}", "event": "assigned",
                    "agent": "a-1"})  # fmt: skip
    return out


def _log(folder: Path, name: str, records: list[dict[str, Any]]) -> Path:
    path = folder / name
    lines = [{"kind": "header", "format": "vigile-activity", "version": 1}, AGENT, *records]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    return path


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    """A store (each engine) with 3 days of events, 180 events."""
    records = [e for day in (19, 20, 21) for e in _events(day, 20)]
    ingest_file(store, _log(tmp_path, "first.jsonl", records))
    return store


def _parts(lake: Path) -> list[str]:
    return sorted(str(p.relative_to(lake)) for p in lake.rglob("*.parquet"))


def _event_count(store: Store) -> int:
    with connect(store.engine) as conn:
        return sum(len(conn.execute(select(table.c.seq)).all()) for table in t.EVENT_TABLES)


def test_export_writes_every_event_by_kind_and_day_with_its_leaf(
    filled: Store, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    done = export_lake(filled.engine, str(lake))
    assert done.events == _event_count(filled) == 180
    assert (lake / MARKER).exists()
    assert _parts(lake) == sorted(
        f"kind={kind}/date=2021-05-{day}/part-000000000000-000000000179.parquet"
        for kind in ("access", "signin", "ticket") for day in (19, 20, 21)
    )  # fmt: skip
    # Readers see the hive partitions; each row's leaf is the event's ledger index.
    files = f"read_parquet('{lake}/*/*/*.parquet', hive_partitioning = true, union_by_name = true)"
    rows = duckdb.sql(
        f"SELECT kind, date, count(*) FROM {files} GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert [(r[0], str(r[1]), r[2]) for r in rows] == [
        (kind, f"2021-05-{day}", 20) for kind in ("access", "signin", "ticket")
        for day in (19, 20, 21)
    ]  # fmt: skip
    leaves = duckdb.sql(f"SELECT list(leaf ORDER BY leaf) FROM {files}").fetchall()
    assert leaves[0][0] == list(range(180))
    with connect(filled.engine) as conn:
        seqs = dict(conn.execute(select(t.accesses.c.id, t.accesses.c.seq)).all())
    part = pq.read_table(
        lake / "kind=access/date=2021-05-20/part-000000000000-000000000179.parquet"
    )
    assert part.schema.equals(lake_schema("access"))
    assert all(seqs[i] == leaf for i, leaf in zip(
        part.column("id").to_pylist(), part.column("leaf").to_pylist(), strict=True))  # fmt: skip
    assert check_lake(filled.engine, str(lake)).ok


def test_export_is_incremental_and_twice_adds_nothing(filled: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export_lake(filled.engine, str(lake))
    before = _parts(lake)
    again = export_lake(filled.engine, str(lake))
    assert (again.events, again.parts, again.exported_upto) == (0, 0, 180)
    assert _parts(lake) == before
    ingest_file(filled, _log(tmp_path, "more.jsonl", _events(21, 5, start=100)))
    more = export_lake(filled.engine, str(lake))
    assert (more.events, more.exported_upto) == (15, 195)
    assert sorted(set(_parts(lake)) - set(before)) == [
        f"kind={kind}/date=2021-05-21/part-000000000180-000000000194.parquet"
        for kind in ("access", "signin", "ticket")
    ]
    report = check_lake(filled.engine, str(lake))
    assert report.ok, report.problems
    assert report.rows == 195


def test_a_lake_url_on_a_pyarrow_filesystem(filled: Store, tmp_path: Path) -> None:
    url = (tmp_path / "by-url").as_uri()
    assert url.startswith("file:///")
    assert export_lake(filled.engine, url).events == 180
    assert (tmp_path / "by-url" / MARKER).exists()
    assert check_lake(filled.engine, url).ok


def test_only_events_with_a_leaf_are_exported_the_others_wait(
    filled: Store, tmp_path: Path
) -> None:
    # An event stored without its ledger leaf yet (as before an integrator reaches it).
    with connect(filled.engine) as conn, conn.begin():
        conn.execute(insert(t.signins).values(
            seq=180, id="s-late", time_us=1621500000000000, agent="a-1", session="x",
            outcome="success", ip="198.51.100.7",
        ))  # fmt: skip
    done = export_lake(filled.engine, str(tmp_path / "lake"))
    assert (done.events, done.waiting, done.exported_upto) == (180, 1, 180)


def _rewrite(path: Path, change: Any) -> None:
    table = pq.read_table(path)
    pq.write_table(change(table), path)


def test_check_names_a_row_altered_in_the_lake(filled: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export_lake(filled.engine, str(lake))
    path = lake / "kind=access/date=2021-05-20/part-000000000000-000000000179.parquet"

    def alter(table: pa.Table) -> pa.Table:
        customers = table.column("customer").to_pylist()
        customers[4] = "c-attacker"
        index = table.schema.get_field_index("customer")
        return table.set_column(index, table.schema.field(index), pa.array(customers))

    _rewrite(path, alter)
    event = pq.read_table(path).column("id")[4].as_py()
    report = check_lake(filled.engine, str(lake))
    assert not report.ok
    [problem] = report.problems
    assert problem.startswith(
        f"kind=access/date=2021-05-20/part-000000000000-000000000179.parquet row 4 (event {event}"
    )
    assert "altered" in problem


def test_check_names_a_row_removed_or_copied(filled: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export_lake(filled.engine, str(lake))
    path = lake / "kind=signin/date=2021-05-19/part-000000000000-000000000179.parquet"
    leaf = pq.read_table(path).column("leaf")[2].as_py()
    _rewrite(path, lambda table: pa.concat_tables([table.slice(0, 2), table.slice(3)]))
    report = check_lake(filled.engine, str(lake))
    assert report.problems == [f"leaf {leaf:,} is missing from the lake (window 0-179)"]
    _rewrite(path, lambda table: pa.concat_tables([table, table.slice(0, 1)]))
    problems = check_lake(filled.engine, str(lake)).problems
    assert any("a second row for this leaf: copied" in p for p in problems)


def test_an_interrupted_export_is_cleaned_up_by_the_next(filled: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export_lake(filled.engine, str(lake), window=100)
    # Parts written past the watermark by an export that stopped before recording it.
    orphan = lake / "kind=access/date=2021-05-21/part-000000000180-000000000279.parquet"
    shutil.copy(next(lake.glob("kind=access/date=2021-05-21/*.parquet")), orphan)
    done = export_lake(filled.engine, str(lake))
    assert (done.removed, done.events) == (1, 0)
    assert not orphan.exists()
    assert check_lake(filled.engine, str(lake)).ok


def _listing(folder: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


def test_a_folder_that_is_not_a_lake_is_refused_and_left_alone(
    filled: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(LakeError, match=r"not a Vigile lake: it holds files \(notes.txt\)"):
        export_lake(filled.engine, str(folder))
    assert _listing(folder) == [("notes.txt", 5)]
    with pytest.raises(LakeError, match="not a Vigile lake"):
        check_lake(filled.engine, str(folder))
    (folder / "notes.txt").unlink()
    (folder / MARKER).write_text('{"format": "delta"}')
    with pytest.raises(LakeError, match="not a Vigile lake's marker"):
        export_lake(filled.engine, str(folder))


def test_a_partition_with_a_foreign_schema_is_refused_naming_it(
    filled: Store, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    export_lake(filled.engine, str(lake))
    # Someone else's file where the next export writes (after its access parts).
    foreign = lake / "kind=ticket/date=2021-05-21/part-000000000000-000000000001.parquet"
    pq.write_table(pa.table({"leaf": [1], "user": ["x"]}), foreign)
    ingest_file(filled, _log(tmp_path, "more.jsonl", _events(21, 5, start=100)))
    before = _listing(lake)
    name = "kind=ticket/date=2021-05-21/part-000000000000-000000000001.parquet"
    with pytest.raises(LakeError, match=f"{name}: a foreign schema in the lake"):
        export_lake(filled.engine, str(lake))
    assert _listing(lake) == before
    with connect(filled.engine) as conn:
        assert conn.execute(select(t.lake_exports.c.leaf)).scalar() == 180
    with pytest.raises(LakeError, match=f"{name}: a foreign schema in the lake"):
        check_lake(filled.engine, str(lake))
    # A file the layout has no place for.
    foreign.unlink()
    (lake / "kind=login").mkdir()
    (lake / "kind=login" / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(LakeError, match=r"kind=login/x.parquet: not part of a Vigile lake"):
        export_lake(filled.engine, str(lake))


def test_another_stores_lake_is_refused(filled: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export_lake(filled.engine, str(lake))
    with connect(filled.engine) as conn, conn.begin():
        conn.execute(t.lake_exports.delete())
    with pytest.raises(LakeError, match="no record of exporting"):
        export_lake(filled.engine, str(lake))


def _cli(settings: Settings, *args: str) -> Any:
    env = {"VIGILE_DB": settings.db, "VIGILE_LEDGER_KEY": settings.ledger_key}
    return CliRunner().invoke(app, list(args), env=env)


def test_the_cli_exports_checks_and_refuses_in_one_line(
    filled: Store, settings: Settings, tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    done = _cli(settings, "lake", "export", "--out", lake, "--format", "json")
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.stdout)["events"] == 180
    checked = _cli(settings, "lake", "check", lake, "--format", "json")
    assert checked.exit_code == 0, checked.output
    assert orjson.loads(checked.stdout)["ok"] is True
    path = Path(lake) / "kind=ticket/date=2021-05-19/part-000000000000-000000000179.parquet"
    _rewrite(path, lambda table: table.set_column(
        table.schema.get_field_index("ticket"), "ticket",
        pa.array(["T-x"] * table.num_rows)))  # fmt: skip
    bad = _cli(settings, "lake", "check", lake)
    assert bad.exit_code == 1
    assert "kind=ticket/date=2021-05-19/part-000000000000-000000000179.parquet row 0" in bad.output
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.csv").write_text("a,b\n")
    env = {
        **os.environ, "VIGILE_DB": settings.db, "VIGILE_LEDGER_KEY": settings.ledger_key,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }  # fmt: skip
    refused = subprocess.run(
        [sys.executable, "-m", "vigile", "lake", "export", "--out", str(tmp_path / "other")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"error: {tmp_path / 'other'}: not a Vigile lake: it holds files (x.csv) but no {MARKER}"
    )
    assert refused.stdout == ""
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["x.csv"]


def test_reader_processes_write_the_same_lake(
    filled: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vigile.lake.export as export  # noqa: PLC0415 - its threshold is patched

    export_lake(filled.engine, str(tmp_path / "here"), window=50)
    monkeypatch.setattr(export, "_PARALLEL_FROM", 0)
    done = export_lake(filled.engine, str(tmp_path / "spawned"), window=50)
    assert done.events == 180
    here, spawned = _parts(tmp_path / "here"), _parts(tmp_path / "spawned")
    assert here == spawned
    for name in here:
        assert pq.read_table(tmp_path / "here" / name).equals(
            pq.read_table(tmp_path / "spawned" / name)
        )


def test_check_names_parts_past_the_watermark(filled: Store, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    export_lake(filled.engine, str(lake))
    orphan = lake / "kind=access/date=2021-05-21/part-000000000180-000000000279.parquet"
    shutil.copy(next(lake.glob("kind=access/date=2021-05-21/*.parquet")), orphan)
    [problem] = check_lake(filled.engine, str(lake)).problems
    assert problem.startswith(
        "kind=access/date=2021-05-21/part-000000000180-000000000279.parquet: leaves 180 to "
        "279 are past the store's watermark (180)"
    )
