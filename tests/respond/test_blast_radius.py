"""The blast radius against a slow reference, on both engines, and the CLI contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.respond.sample import (
    ENGINES,
    Simulated,
    reference_blast_radius,
    run,
    simulated_store,
)
from vigile.model.times import format_rfc3339
from vigile.respond import InvalidScope, Scope, blast_radius

MAY = datetime(2021, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module", params=ENGINES)
def sim(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Simulated]:
    with simulated_store(request.param, tmp_path_factory.mktemp("blast")) as simulated:
        yield simulated


def test_the_attack_window_matches_the_reference_and_the_truth(sim: Simulated) -> None:
    attack = sim.attack
    scope = Scope(
        agents=(attack["agent"],),
        sessions=tuple(attack["sessions"]),
        since=datetime.fromisoformat(attack["window"]["start"]),
        until=datetime.fromisoformat(attack["window"]["end"]),
    )
    radius = blast_radius(sim.store, scope).to_json()
    assert radius == reference_blast_radius(sim.records, scope)
    exposed = {c["customer"] for c in radius["customers"]}
    # The answer key: customers whose data the attacker got, and those only listed.
    assert exposed == set(attack["customers"]) | set(attack["customers_listed"])


_SCOPES = st.fixed_dictionaries(
    {
        "agents": st.lists(st.sampled_from([f"a-{i:04d}" for i in range(8)]), max_size=2),
        "start": st.integers(0, 30 * 24),
        "hours": st.integers(0, 20 * 24),
        "by_ip": st.booleans(),
        "by_session": st.booleans(),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=_SCOPES, data=st.data())
def test_random_scopes_match_the_reference(
    sim: Simulated, choice: dict, data: st.DataObject
) -> None:  # type: ignore[type-arg]
    accesses = [r for r in sim.records if r["kind"] == "access"]
    pick = data.draw(st.sampled_from(accesses))
    since = MAY + timedelta(hours=choice["start"])
    scope = Scope(
        agents=tuple(choice["agents"]) or (pick["agent"],),
        ips=(pick["ip"],) if choice["by_ip"] else (),
        sessions=(pick["session"],) if choice["by_session"] else (),
        since=since,
        until=since + timedelta(hours=choice["hours"]),
    )
    got = blast_radius(sim.store, scope).to_json()
    assert got == reference_blast_radius(sim.records, scope)


def test_devices_stand_for_their_sessions(sim: Simulated) -> None:
    signin = next(r for r in sim.records if r["kind"] == "signin" and r.get("device"))
    scope = Scope(devices=(signin["device"],), since=MAY, until=MAY + timedelta(days=31))
    got = blast_radius(sim.store, scope).to_json()
    assert got == reference_blast_radius(sim.records, scope)
    assert got["summary"]["accesses"] > 0  # type: ignore[index]


def test_denied_accesses_expose_nothing(sim: Simulated) -> None:
    denied = next(r for r in sim.records if r["kind"] == "access" and r["outcome"] == "denied")
    moment = datetime.fromisoformat(denied["time"])
    scope = Scope(sessions=(denied["session"],), since=moment, until=moment)
    assert blast_radius(sim.store, scope).customers == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "at least one agent"),
        ({"agents": ("a",), "until": MAY - timedelta(seconds=1)}, "before it starts"),
    ],
)
def test_bad_scopes_are_refused(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidScope, match=message):
        Scope(**{"since": MAY, "until": MAY} | kwargs)


def test_cli_contract(
    sim: Simulated, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if "://" in sim.store.settings.db:
        pytest.skip("the CLI only translates: one engine is enough")
    monkeypatch.setenv("VIGILE_DB", sim.store.settings.db)
    attack = sim.attack
    args = ["blast-radius", "--agent", attack["agent"], "--since", attack["window"]["start"]]
    code, out, _ = run(capsys, *args, "--until", attack["window"]["end"], "--format", "json")
    assert code == 0
    document = json.loads(out)
    keys = {"customer", "fields", "masked_fields", "first_access", "last_access", "accesses"}
    assert all(keys <= set(c) for c in document["customers"])
    assert document["summary"]["customers"] == len(document["customers"]) > 0
    first = min(c["first_access"] for c in document["customers"])
    # The window starts with the attacker's sign-in; its first access follows.
    assert first >= format_rfc3339(datetime.fromisoformat(attack["window"]["start"]))


def test_cli_errors_exit_1(
    sim: Simulated, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGILE_DB", "missing.db")
    args = ("--agent", "a", "--since", "yesterday", "--until", "2021-05-01T00:00:00Z")
    code, _, err = run(capsys, "blast-radius", *args)
    assert code == 1
    assert "--since: not an RFC 3339 time" in err
    assert run(capsys, "blast-radius", "--agent", "a")[0] == 2
