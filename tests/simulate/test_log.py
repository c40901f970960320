"""The simulated activity log is a valid log (docs/spec/activity-log.md) and repeatable."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.simulate.sample import Simulated, run
from vigile.activitylog.reader import ActivityLogReader
from vigile.model import ACTIONS, DATA_FIELDS, MFA_METHODS, REASONS, WEEKDAYS
from vigile.simulate import simulate

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DIRECTORY = {"agent", "customer", "contact", "account", "subscription"}
REQUIRED = {
    "agent": {"id"},
    "customer": {"id"},
    "contact": {"id", "customer"},
    "account": {"id", "customer", "username"},
    "subscription": {"id", "customer", "service"},
    "ticket": {"time", "ticket", "event"},
    "signin": {"time", "id", "agent", "session", "outcome", "ip"},
    "access": {"time", "id", "agent", "session", "action", "outcome", "fields", "reason"},
}


def _check_access(record: dict[str, Any]) -> None:
    assert record["action"] in ACTIONS
    assert record["reason"] in REASONS
    assert record["outcome"] in {"allowed", "denied"}
    assert set(record["fields"]) | set(record.get("masked_fields", [])) <= DATA_FIELDS
    if record["action"] == "customer.search":
        assert record["query"]
        assert isinstance(record["results"], list)
    else:
        assert record["customer"]
    assert ("deny_reason" in record) == (record["outcome"] == "denied")


def _check_event(record: dict[str, Any]) -> None:
    assert RFC3339_UTC.match(record["time"]), record
    if record["kind"] == "ticket":
        assert record["event"] in {"opened", "assigned", "closed"}
        assert ("customer" in record) == (record["event"] == "opened")
        assert ("agent" in record) == (record["event"] == "assigned")
    elif record["kind"] == "signin":
        assert record["outcome"] in {"success", "failure"}
        assert record["mfa"] in MFA_METHODS
    else:
        _check_access(record)


@pytest.mark.parametrize(
    "scenario",
    ["baseline", "nobelium", "bribed_insider", "session_hijack", "search_sweep", "mixed"],
)
def test_every_record_has_the_fields_the_spec_requires(
    simulated: Callable[[str], Simulated], scenario: str
) -> None:
    records = simulated(scenario).records
    assert records[0] == {"kind": "header", "format": "vigile-activity", "version": 1}
    for record in records[1:]:
        assert REQUIRED[record["kind"]] <= record.keys(), record
        if record["kind"] not in DIRECTORY:
            _check_event(record)


def test_agents_have_a_shift_in_their_timezone_and_a_tier(baseline: Simulated) -> None:
    for agent in baseline.of_kind("agent"):
        assert set(agent["shift"]["days"]) <= set(WEEKDAYS)
        assert re.match(r"^\d\d:\d\d$", agent["shift"]["start"])
        assert agent["tier"] in {1, 2, 3}
        assert "/" in agent["timezone"]
    employers = {a["employer"] for a in baseline.of_kind("agent")}
    assert "vigile-cloud" in employers
    assert employers - {"vigile-cloud"}, "some agents work for outsourcing contractors"


def test_directory_comes_first_then_events_in_time_order(baseline: Simulated) -> None:
    kinds = [r["kind"] for r in baseline.records[1:]]
    first_event = min(i for i, kind in enumerate(kinds) if kind not in DIRECTORY)
    assert all(kind in DIRECTORY for kind in kinds[:first_event])
    assert all(kind not in DIRECTORY for kind in kinds[first_event:])
    times = [r["time"] for r in baseline.records[1 + first_event :]]
    assert times == sorted(times)


def test_event_ids_are_unique_across_the_file(simulated: Callable[[str], Simulated]) -> None:
    ids = [r["id"] for r in simulated("nobelium").records if r["kind"] in {"signin", "access"}]
    assert len(ids) == len(set(ids))


def test_counts_match_the_file(baseline: Simulated) -> None:
    events = [r for r in baseline.records if "time" in r]
    assert baseline.result.events == len(events)
    assert baseline.result.records == len(baseline.records) - 1  # the header is no record
    summary = baseline.truth["summary"]
    assert summary["accesses"] == len(baseline.of_kind("access"))
    assert summary["signins"] == len(baseline.of_kind("signin"))
    assert summary["ticket_steps"] == len(baseline.of_kind("ticket"))


def test_the_project_reader_accepts_every_line(simulated: Callable[[str], Simulated]) -> None:
    reader = ActivityLogReader(simulated("nobelium").result.path)
    assert sum(1 for _ in reader) == reader.report.records
    assert reader.report.skipped == 0


def test_same_seed_gives_the_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    a = run(tmp_path / "a", scenario="nobelium", agents=8)
    b = simulate(a.config, tmp_path / "b", workers=2)
    assert a.result.path.read_bytes() == b.path.read_bytes()
    assert a.result.truth_path.read_bytes() == b.truth_path.read_bytes()


def test_another_seed_gives_another_log(tmp_path: Path) -> None:
    a = run(tmp_path / "a", days=5, agents=6, seed=1)
    b = run(tmp_path / "b", days=5, agents=6, seed=2)
    assert a.result.path.read_bytes() != b.result.path.read_bytes()
    ids_a = {r["id"] for r in a.records if "id" in r and "time" in r}
    ids_b = {r["id"] for r in b.records if "id" in r and "time" in r}
    assert not ids_a & ids_b
