"""`vigile export`: the store written back out as the activity-log spec (a round trip
through an empty store gives the same records and blast radius) and as OCSF events,
every one valid against the official OCSF schema of its declared version."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import empty_database
from tests.ocsf_schema import validate
from tests.respond.sample import Simulated, simulated_store
from vigile.activitylog.ocsf import OCSF_VERSION
from vigile.cli.app import app
from vigile.errors import InputError
from vigile.export import ExportFormat, export_store, parse_window
from vigile.ingest import ingest_file
from vigile.model.times import parse_rfc3339
from vigile.respond import Scope, blast_radius
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

_TABLES = (t.agents, t.customers, t.contacts, t.accounts, t.subscriptions)
_EVENTS = (t.ticket_events, t.signins, t.accesses, t.search_results)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    with simulated_store("sqlite", tmp_path_factory.mktemp("export")) as sim:
        yield sim


def _rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the activity's tables, ``seq`` left out, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with connect(store.engine) as conn:
        for table in (*_TABLES, *_EVENTS):
            names = [c.name for c in table.columns if c.name not in ("seq", "access_seq")]
            rows = conn.execute(select(*(table.c[n] for n in names))).all()
            out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return out


def _ingested(path: Path, folder: Path) -> Iterator[Store]:
    with empty_database("sqlite", folder) as url:
        (folder / "keys").mkdir(parents=True)
        settings = Settings(db=url, ledger_key=str(folder / "keys" / "ledger.key"))
        with Store.open(settings, create=True) as store:
            ingest_file(store, path)
            yield store


def _scope(sim: Simulated) -> Scope:
    attack = sim.attack
    return Scope(
        agents=(attack["agent"],),
        sessions=tuple(attack["sessions"]),
        since=datetime.fromisoformat(attack["window"]["start"]),
        until=datetime.fromisoformat(attack["window"]["end"]),
    )


@pytest.mark.parametrize("name", ["store.jsonl", "store.jsonl.gz"])
def test_round_trip_gives_the_same_records_and_blast_radius(
    simulated: Simulated, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    summary = export_store(simulated.store, out)
    assert summary.events == sum(
        1 for r in simulated.records if "time" in r and r["kind"] in ("ticket", "signin", "access")
    )
    if name.endswith(".gz"):
        with gzip.open(out) as lines:
            assert lines.readline().startswith(b'{"kind":"header"')
    for store in _ingested(out, tmp_path / "again"):
        assert _rows(store) == _rows(simulated.store)
        scope = _scope(simulated)
        assert blast_radius(store, scope) == blast_radius(simulated.store, scope)
        assert blast_radius(store, scope).customers  # the attack reached someone


def test_since_and_until_bound_the_events(simulated: Simulated, tmp_path: Path) -> None:
    times = sorted(
        parse_rfc3339(r["time"])
        for r in simulated.records
        if r["kind"] != "ticket" and "time" in r and r["kind"] in ("signin", "access")
    )
    since, until = times[len(times) // 3], times[2 * len(times) // 3]
    out = tmp_path / "window.jsonl"
    summary = export_store(simulated.store, out, since=since, until=until)
    lines = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    events = [r for r in lines if r["kind"] in ("ticket", "signin", "access")]
    assert len(events) == summary.events > 0
    assert all(since <= parse_rfc3339(r["time"]) <= until for r in events)
    expected = sum(
        1
        for r in simulated.records
        if r["kind"] in ("ticket", "signin", "access")
        and since <= parse_rfc3339(r["time"]) <= until
    )
    assert summary.events == expected
    assert {r["kind"] for r in lines} >= {"agent", "customer"}  # the directory, whole


def test_ocsf_events_follow_the_mapping_and_the_schema(
    simulated: Simulated, tmp_path: Path
) -> None:
    out = tmp_path / "siem.jsonl.gz"
    summary = export_store(simulated.store, out, format=ExportFormat.OCSF)
    with gzip.open(out) as lines:
        events = [json.loads(line) for line in lines]
    tickets = sum(1 for r in simulated.records if r["kind"] == "ticket")
    signins = [r for r in simulated.records if r["kind"] == "signin"]
    accesses = [r for r in simulated.records if r["kind"] == "access"]
    assert summary.skipped == tickets
    assert len(events) == len(signins) + len(accesses)
    assert sorted(e["class_uid"] for e in events) == sorted(
        [3002] * len(signins) + [6003] * len(accesses)
    )
    for event in events:
        assert event["metadata"]["version"] == OCSF_VERSION
        validate(event)
    by_id = {e["metadata"]["uid"]: e for e in events}
    for access in accesses[:200]:
        event = by_id[access["id"]]
        assert event["actor"]["user"]["uid"] == access["agent"]
        assert event["api"]["operation"] == access["action"]
        assert event["status_id"] == (1 if access["outcome"] == "allowed" else 2)
        assert event["unmapped"]["justification"].get("reason") == access.get("reason")
        assert event["unmapped"]["justification"].get("ticket") == access.get("ticket")
    for signin in signins[:200]:
        event = by_id[signin["id"]]
        assert (event["user"]["uid"], event["session"]["uid"]) == (
            signin["agent"],
            signin["session"],
        )
        assert event["src_endpoint"]["ip"] == signin["ip"]


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", None, "--since: "),
        (None, "2021-13-01T00:00:00Z", "--until: "),
        ("2021-06-01T00:00:00Z", "2021-05-01T00:00:00Z", "--since (2021-06-01T00:00:00Z) is after"),
    ],
)
def test_a_bad_window_is_refused_naming_the_parameter(
    since: str | None, until: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_window(since, until)


def test_the_cli_refuses_bad_parameters_and_leaves_no_file(
    simulated: Simulated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGILE_DB", simulated.store.settings.db)
    runner = CliRunner()
    for args, named in (
        (["--out", "x.jsonl", "--since", "yesterday"], "--since"),
        (["--out", "x.jsonl", "--until", "2021-05-01"], "--until"),
        (["--out", "x.jsonl", "--format", "csv"], "--format"),
        (["--out", str(tmp_path / "missing" / "x.jsonl")], "cannot write here"),
    ):
        result = runner.invoke(app, ["export", *args])
        assert result.exit_code != 0, args
        assert named in result.output + str(result.exception), result.output
    assert list(tmp_path.iterdir()) == []


def test_the_cli_writes_and_summarises_as_json(
    simulated: Simulated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGILE_DB", simulated.store.settings.db)
    monkeypatch.setenv("VIGILE_LEDGER_KEY", simulated.store.settings.ledger_key)
    out = tmp_path / "siem.jsonl"
    result = CliRunner().invoke(
        app, ["export", "--out", str(out), "--format", "ocsf", "--summary", "json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["format"] == "ocsf"
    assert summary["events"] == len(out.read_text().splitlines())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".siem")]
