"""OCSF events as Parquet rows (``vigile ingest --from ocsf FILE.parquet``): Amazon
Security Lake's own Parquet samples, Vigile's OCSF export written as Parquet and read back,
bad files refused by file, row and field with nothing stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings

from tests.sources.cli import import_directory_file, jsonl, run, table_counts
from tests.sources.test_ocsf import LOGON, READ_CONTACT, ROUND, _events
from tests.sources.test_ocsf_ingest import ACTIVITY_LOG, DIRECTORY_CSV
from vigile.errors import InputError
from vigile.ingest import ingest_file
from vigile.model import Agent
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.sources import VendorLogReader
from vigile.sources.base import AGENT, Identities, InvalidField
from vigile.sources.ocsf import OCSF
from vigile.sources.okta import OKTA
from vigile.sources.parquet import parquet_rows
from vigile.store import Store, open_engine
from vigile.store.engine import write_transaction
from vigile.store.identities import upsert_identities

PARQUET = Path(__file__).parent / "ocsf" / "parquet"
ANAYA = Identities(ids={("ocsf", "aidackcevsq6c2example"): (AGENT, "a-anaya")})


def _parquet(path: Path, events: list[dict[str, Any]], *, rows_per_group: int = 1) -> Path:
    """``events`` as a Parquet file, one column per top-level key of any event, nested
    objects as structs (``pa.array`` infers the types from every event, where
    ``Table.from_pylist`` would keep only the first event's keys)."""
    table = pa.Table.from_struct_array(pa.array(events))
    pq.write_table(table, path, row_group_size=rows_per_group)
    return path


def _read(
    path: Path, identities: Identities, *, size: int = 5_000
) -> tuple[VendorLogReader, list[Any]]:
    """The records of ``path`` read ``size`` rows at a time, invalid rows counted."""
    reader = VendorLogReader(path, OCSF, identities, skip_invalid=True)
    return reader, [r for chunk in reader.decoded_chunks(size) for r in chunk.records]


# -- Amazon Security Lake's Parquet files, as AWS published them --------------------------


def test_security_lake_s_parquet_samples_read_as_their_json_conversions_do() -> None:
    """The 15 files the JSON samples were converted from (test_ocsf.py): the three
    ConsoleLogin Logons map, the others are counted, the EKS row is refused at row 1 for
    its missing ``metadata.uid``; MAP columns (``unmapped``) and nested structs read."""
    mapped: dict[str, tuple[str, str | None]] = {}
    counted: dict[str, int] = {}
    refused = []
    for path in sorted(PARQUET.glob("*.parquet")):
        reader, records = _read(path, ANAYA)
        mapped |= {r.id: (r.outcome, r.mfa) for r in records}
        for kind, n in reader.mapping.unsupported.items():
            counted[kind] = counted.get(kind, 0) + n
        refused += [str(e) for e in reader.report.errors]
    assert mapped == {
        "ocsf:d38ce1b3-4575-4cb8-a632-611b8243bfc3": ("failure", None),
        "ocsf:fed06f42-cb12-4764-8c69-121063dc79b9": ("success", None),
        "ocsf:3fcfb182-98f8-4744-bd45-10a395ab61cb": ("success", "none"),
    }
    assert counted == {"3005": 7, "3002:status 0": 3, "3002:activity 99": 1}
    assert refused == [f"{PARQUET / 'EKS-test.parquet'}:1: metadata.uid: required field is missing"]


def test_a_security_lake_file_ingests_through_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import_directory_file(
        capsys, tmp_path, "kind,id,country,ocsf_id\nagent,a-anaya,US,AIDACKCEVSQ6C2EXAMPLE\n"
    )
    path = PARQUET / "authentication-ConsoleLogin.parquet"
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(path), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["stored"] == {"signin": 1}
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(path), "--format", "json")
    assert (json.loads(out)["stored"], json.loads(out)["duplicates"]) == ({}, 1)


# -- Vigile's own OCSF export, as Parquet ------------------------------------------------


def _export_as_parquet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[Path, Path]:
    siem = tmp_path / "siem.jsonl"
    assert run(capsys, "export", "--out", str(siem), "--format", "ocsf")[0] == 0
    events = [json.loads(line) for line in siem.read_text().splitlines()]
    return siem, _parquet(tmp_path / "siem.parquet", events, rows_per_group=7)


def _read_back(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    path: Path,
    directory: str,
) -> list[str]:
    """``path`` ingested ``--from ocsf`` into a store of its own, exported as the spec."""
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / f"{path.name}.db"))
    import_directory_file(capsys, tmp_path, directory)
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(path), "--format", "json")
    assert code == 0, out
    back = tmp_path / f"{path.name}.back.jsonl"
    assert run(capsys, "export", "--out", str(back))[0] == 0
    return back.read_text().splitlines()


def test_vigile_s_ocsf_export_as_parquet_reads_back_as_the_json_export_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spec's example: the same sign-in and access, field by field, whether the OCSF
    export is read as JSON lines or as Parquet (pyarrow's types for the nested objects,
    nulls where one event has a field another has not)."""
    assert run(capsys, "ingest", str(jsonl(tmp_path / "a.jsonl", ACTIVITY_LOG)))[0] == 0
    siem, parquet = _export_as_parquet(capsys, tmp_path)
    directory = (
        "kind,id,team,country,tier,ocsf_id\n"
        "agent,a-0017,billing-emea,IE,,a-0017\n"
        "customer,c-00412,,US,government,c-00412\n"
    )
    from_json = _read_back(capsys, monkeypatch, tmp_path, siem, directory)
    from_parquet = _read_back(capsys, monkeypatch, tmp_path, parquet, directory)
    assert from_parquet == from_json
    kinds = [json.loads(line)["kind"] for line in from_parquet]
    assert (kinds.count("signin"), kinds.count("access")) == (1, 1)


def test_a_simulated_organisation_s_ocsf_export_as_parquet_reads_back_the_same(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of sign-ins and accesses of every action, several row groups and record
    batches: the Parquet copy gives the same records as the JSON lines."""
    out = tmp_path / "sim"
    code, _, _ = run(capsys, "simulate", "--agents", "5", "--days", "3", "--out", str(out))
    assert code == 0
    assert run(capsys, "ingest", str(out / "activity.jsonl"))[0] == 0
    siem, parquet = _export_as_parquet(capsys, tmp_path)
    people = [json.loads(line) for line in (out / "activity.jsonl").read_text().splitlines()]
    rows = ["kind,id,ocsf_id"] + [
        f"{p['kind']},{p['id']},{p['id']}" for p in people if p["kind"] in ("agent", "customer")
    ]
    directory = "\n".join(rows) + "\n"
    from_json = _read_back(capsys, monkeypatch, tmp_path, siem, directory)
    from_parquet = _read_back(capsys, monkeypatch, tmp_path, parquet, directory)
    stored = [json.loads(line)["kind"] for line in from_json]
    assert stored.count("signin") >= 5
    assert stored.count("access") > 300
    assert from_parquet == from_json


# -- bad files -----------------------------------------------------------------------


def test_rows_are_numbered_across_record_batches_and_a_bad_field_is_named(
    tmp_path: Path,
) -> None:
    """Five rows in row groups of one, read two at a time: the fourth's missing
    ``class_uid`` (a null in the column) is named at row 4 of the file, not of its batch."""
    events = [
        {**LOGON, "metadata": {"uid": f"e-{n}"}, "class_uid": None if n == 4 else 3002}
        for n in range(1, 6)
    ]
    path = _parquet(tmp_path / "bad.parquet", events)
    ann = Identities(ids={("ocsf", "ann@contoso.example"): (AGENT, "a-1")})
    reader, records = _read(path, ann, size=2)
    assert [str(e) for e in reader.report.errors] == [
        f"{path}:4: class_uid: required field is missing"
    ]
    assert reader.report.lines == 5
    assert [r.id for r in records] == ["ocsf:e-1", "ocsf:e-2", "ocsf:e-3", "ocsf:e-5"]


def test_a_bad_row_refuses_the_file_naming_file_row_and_field_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import_directory_file(capsys, tmp_path, DIRECTORY_CSV)
    good = {**LOGON, "metadata": {"uid": "evt-1"}}
    bad = {**LOGON, "metadata": {"uid": "evt-2"}, "time": -5}
    path = _parquet(tmp_path / "bad.parquet", [good, READ_CONTACT, bad])
    code, _, err = run(capsys, "ingest", "--from", "ocsf", str(path))
    assert code != 0
    assert f"{path}:3: time: expected epoch milliseconds" in " ".join(err.split())
    assert table_counts(capsys)["signins"] == 0
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(path), "--skip-invalid")
    assert code == 0, out
    code, out, _ = run(capsys, "ingest", "--from", "ocsf", str(path), "--format", "json")
    assert code != 0
    tables = table_counts(capsys)
    assert (tables["signins"], tables["accesses"]) == (1, 1)


def test_a_parquet_file_that_is_not_ocsf_gets_one_message_naming_what_it_lacks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _parquet(tmp_path / "flows.parquet", [{"src": "10.0.0.1", "bytes": 5}] * 3)
    code, _, err = run(capsys, "ingest", "--from", "ocsf", str(path))
    assert code != 0
    message = " ".join(err.split())
    assert f"{path}: not a Parquet file of ocsf events: no column class_uid, metadata, time" in (
        message
    )
    assert "(it has src, bytes)" in message
    assert "Traceback" not in err
    assert table_counts(capsys)["signins"] == 0


def test_a_truncated_parquet_file_is_refused_by_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    whole = (PARQUET / "authentication-ConsoleLogin.parquet").read_bytes()
    path = tmp_path / "cut.parquet"
    path.write_bytes(whole[: len(whole) // 2])
    code, _, err = run(capsys, "ingest", "--from", "ocsf", str(path))
    assert code != 0
    assert f"{path}: not a Parquet file pyarrow can read" in " ".join(err.split())
    assert "Traceback" not in err


def test_a_source_without_parquet_says_so() -> None:
    reader = VendorLogReader(PARQUET / "authentication-ConsoleLogin.parquet", OKTA, Identities())
    with pytest.raises(InputError, match="a Parquet file; --from okta reads JSON lines"):
        list(reader.decoded_chunks())


def test_a_timestamp_time_column_reads_as_epoch_milliseconds(tmp_path: Path) -> None:
    """OCSF's ``time`` is a ``timestamp_t``; a lake may store it as a Parquet timestamp."""
    table = pa.Table.from_pylist([{**LOGON, "metadata": {"uid": "evt-1"}}])
    at = table.schema.get_field_index("time")
    stamped = pa.array([LOGON["time"]], pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    table = table.set_column(at, "time", stamped)
    path = tmp_path / "stamped.parquet"
    pq.write_table(table, path)
    ann = Identities(ids={("ocsf", "ann@contoso.example"): (AGENT, "a-1")})
    _, (signin,) = _read(path, ann)
    assert int(signin.time.timestamp() * 1000) == LOGON["time"]


def test_parquet_rows_decode_in_the_worker_process_as_in_this_one(tmp_path: Path) -> None:
    """A large file is decoded in a worker beside the writer: the rows (dictionaries)
    travel to it and the records back, the same as decoded here."""
    events = [
        {**LOGON, "metadata": {"uid": f"e-{n}"}, "time": LOGON["time"] + n} for n in range(40)
    ]
    path = _parquet(tmp_path / "many.parquet", events, rows_per_group=7)
    stores = []
    for parallel in (False, True):
        settings = Settings(db=str(tmp_path / f"{parallel}.db"), ledger_key=str(tmp_path / "k"))
        store = Store(open_engine(settings.db, create=True), settings)
        with write_transaction(store.engine) as conn:
            upsert_identities(conn, [("ocsf", "ann@contoso.example", AGENT, "a-1")])
        Recorder(store).record([Agent(id="a-1")])
        summary = ingest_file(store, path, source=OCSF, parallel=parallel)
        stores.append((summary.stored, summary.lines))
        store.engine.dispose()
    assert stores[0] == stores[1] == ({"signin": 40}, 40)


# -- random events: the same outcome from a Parquet row as from its JSON line ---------


def _outcome(parse: Any) -> Any:
    """What one event becomes: its records, what was counted or kept aside, or the field
    it is refused for."""
    try:
        return OCSF.map(OCSF.parse(parse()), ROUND)
    except InvalidField as exc:
        return ("refused", exc.field)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=_events())
def test_a_random_event_reads_the_same_from_parquet_as_from_json(
    event: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever Arrow can store of a random event (one type a column), read back from a
    Parquet file it maps, is counted, is kept aside or is refused as its JSON line is."""
    try:
        table = pa.Table.from_struct_array(pa.array([event]))
        path = tmp_path_factory.mktemp("row") / "event.parquet"
        pq.write_table(table, path)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        assume(False)  # a value Arrow cannot type or Parquet cannot hold (an empty struct)
    from_json = _outcome(lambda: event)
    missing = None
    with open(path, "rb") as raw:
        try:
            rows = [row for _, chunk in parquet_rows(path, raw, OCSF, 5) for row in chunk]
        except InputError as exc:  # a column every OCSF file has is missing
            missing = str(exc)
    if missing is not None:  # then the JSON line lacks that field: refused by name
        assert "not a Parquet file of ocsf events" in missing
        assert from_json[0] == "refused"
        return
    (row,) = rows
    assert _outcome(lambda: row) == from_json
