"""``vigile demo``, run small: the attacker goes through the broker and is refused clear
data, detection fires on the hijacked agent, the incident is opened and prepared, the
ledger verifies, and the report is one self-contained page without clear addresses."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from vigile.broker import Broker, LocalTokens
from vigile.cli.app import main
from vigile.cli.demo import _console_accounts
from vigile.console.accounts import ConsoleAccounts
from vigile.demo import split_log
from vigile.model.times import parse_rfc3339, to_micros
from vigile.settings import Settings
from vigile.store import Store

# A src or href to anything fetched over the network (http:, https:, protocol-relative).
_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _demo(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["demo", *args])
        except SystemExit as exc:
            return (exc.code if isinstance(exc.code, int) else 1), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo's working folder: its store, keys and files, nothing in the repository."""
    where = tmp_path_factory.mktemp("demo")
    patch = pytest.MonkeyPatch()
    patch.chdir(where)
    patch.setenv("VIGILE_DB", str(where / "demo.db"))
    patch.setenv("COLUMNS", "200")
    yield where
    patch.undo()


@pytest.fixture(scope="module")
def story(folder: Path) -> dict[str, Any]:
    """One small demo (20 agents) for every test of this module."""
    out_folder = str(folder / "out")
    code, out, err = _demo("--agents", "20", "--out", out_folder, "--no-serve", "--format", "json")
    assert code == 0, err
    found: dict[str, Any] = json.loads(out)
    return found


def test_the_attacker_goes_through_the_broker_and_gets_nothing_in_clear(
    story: dict[str, Any],
) -> None:
    broker = story["broker"]
    assert broker["agent"] in story["truth"]["compromised_agents"]
    assert broker["events"] == story["truth"]["summary"]["attacker_events"]
    assert broker["signins"]["accepted"] >= 1  # the stolen credentials came with push MFA
    assert broker["requests"] == broker["allowed_masked"] + broker["revealed"] + broker["denied"]
    assert broker["revealed"] == 0
    assert broker["revealed_objects"] == []
    assert broker["denied"] > broker["allowed_masked"] > 0  # searches only: names
    assert broker["deny_reasons"][0]["count"] > 0
    denied = {row["action"] for row in broker["by_action"] if row["outcome"] == "denied"}
    assert {"contact.reveal", "contact.view", "subscription.view"} <= denied


def test_detection_raises_the_hijacked_agent_at_high_or_critical(story: dict[str, Any]) -> None:
    agent = story["broker"]["agent"]
    alert = next(a for a in story["alerts"] if a["agent"] == agent)
    assert alert["severity"] in ("high", "critical")
    assert alert["reasons"]
    assert agent in story["detected"]


def test_the_incident_is_opened_scoped_and_prepared_not_applied(story: dict[str, Any]) -> None:
    response = story["response"]
    incident = response["incident"]
    assert incident["id"] == "INC-0001"
    assert incident["status"] == "open"
    assert incident["scope"]["agents"] == [story["broker"]["agent"]]
    assert set(story["broker"]["addresses"]) <= set(incident["scope"]["ips"])
    radius = response["blast_radius"]
    assert radius["customers"] > 0
    assert "customer.name" in radius["by_field"]  # the names the searches listed
    assert radius["customers"] <= response["whole_account_blast_radius"]["customers"]
    notifications = response["notifications"]
    assert notifications["sent"] == 0
    assert {"en", "fr"} <= set(notifications["languages"])
    drafts = list(Path(notifications["folder"]).glob("*.eml"))
    assert len(drafts) == notifications["drafted"]
    remediation = response["remediation"]
    assert remediation["applied"] is False
    assert not any(action["applied"] for action in remediation["actions"])
    assert f"suspend-agent:{story['broker']['agent']}" in {
        action["action"] for action in remediation["actions"]
    }


def test_the_ledger_verifies_every_event_the_broker_recorded_included(
    story: dict[str, Any],
) -> None:
    ledger = story["ledger"]
    assert ledger["ok"] is True
    assert ledger["problem"] is None
    tables = story["tables"]
    stored = sum(tables[n] for n in ("ticket_events", "signins", "accesses", "audit_events"))
    # The incident's actions after the count (notes, previews, plan) are entries too.
    assert stored <= ledger["entries"] <= stored + 10


def test_the_report_is_self_contained_and_shows_no_clear_address(
    story: dict[str, Any], folder: Path
) -> None:
    report = Path(story["report"])
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not _EXTERNAL.search(page)
    assert "<link" not in page
    assert "<script" not in page
    for section in ("What the broker did", "Detection", "blast radius", "Remediation", "ledger"):
        assert section in page
    assert 'lang="fr"' in page
    assert 'lang="en"' in page
    revealed = {(r["customer"], r["object"]) for r in story["broker"]["revealed_objects"]}
    attacked = set(story["truth"]["attacks"][0]["customers"])
    with Store.open(Settings(db=str(folder / "demo.db"))) as store:
        for customer in attacked:
            for contact in store.contacts_of(customer):
                if contact.email and (customer, contact.id) not in revealed:
                    assert contact.email not in page, contact.id


def test_a_second_demo_on_the_same_store_stops_with_what_to_do(
    story: dict[str, Any], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)
    monkeypatch.setenv("VIGILE_DB", str(folder / "demo.db"))
    code, _, err = _demo("--agents", "20", "--out", str(folder / "again"), "--no-serve")
    assert code == 1
    assert "already holds" in err
    assert "VIGILE_DB" in err
    assert "Traceback" not in err
    assert not (folder / "again").exists()


def test_the_console_accounts_can_act_as_the_story_needs(
    story: dict[str, Any], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(folder)  # the broker's token key is the demo's
    settings = Settings(db=str(folder / "demo.db"))
    with Store.open(settings) as store:
        lines = _console_accounts(store, SimpleNamespace(truth=story["truth"]))  # type: ignore[arg-type]
        roles = {account.role: account for account, _ in ConsoleAccounts(store).all()}
        assert set(roles) == {"analyst", "agent", "customer"}
        assert roles["agent"].has_mfa
        assert roles["analyst"].has_mfa
        assert not roles["customer"].has_mfa
        assert sum("password" in line for line in lines) == 3
        customer, agent = roles["customer"].subject, roles["agent"].subject
        assert customer in story["truth"]["attacks"][0]["customers"]
        assert agent not in story["truth"]["compromised_agents"]
        # The agent's ticket is open now: the broker lets it see that customer's contacts.
        now = datetime.now(UTC)
        ticket = next(line for line in lines if "T-DEMO-" in line).split("ticket ")[1].split()[0]
        broker = Broker(store, settings)
        try:
            token = LocalTokens(settings).issue(
                agent, roles=frozenset({"agent"}), mfa="totp", now=now
            )
            principal = broker.authenticate(token, ip="127.0.0.1")
            shown = broker.view_list(
                principal, customer, "contacts", ticket=ticket, reason="customer_initiated_support"
            )
        finally:
            broker.close()
        assert shown.masked_fields == ("contact.email", "contact.phone")


def test_streaming_detection_gives_the_time_to_detect(story: dict[str, Any]) -> None:
    minutes = story["streaming"]["minutes_after_first_attacker_event"]
    assert minutes is not None
    assert 0 <= minutes < 14 * 24 * 60  # within the attack's two weeks


def test_a_taken_port_stops_the_demo_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "other.db"))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = _demo("--agents", "20", "--out", str(tmp_path / "d"), "--port", str(port))
    assert code == 1
    assert f"port {port}" in err
    assert "--no-serve" in err
    assert not (tmp_path / "d").exists()


def test_the_log_splits_into_benign_segments_around_the_attacker_sittings(
    story: dict[str, Any], tmp_path: Path
) -> None:
    activity = Path(story["out"]) / "activity.jsonl"
    attacker = frozenset(story["truth"]["attacks"][0]["event_ids"])
    plan = split_log(activity, attacker, tmp_path)
    assert len(plan.segments) == len(plan.sittings) + 1
    assert plan.attacker_events == len(attacker)
    assert plan.benign_events + plan.attacker_events == story["truth"]["summary"]["events"]
    assert all(s.events[0]["kind"] == "signin" for s in plan.sittings)  # stolen credentials
    bounds = [-1, *(s.start_us for s in plan.sittings), 2**62]
    for k, segment in enumerate(plan.segments):
        times = [
            to_micros(parse_rfc3339(r["time"]))
            for r in map(json.loads, segment.read_text().splitlines())
            if r["kind"] in ("signin", "access", "ticket")
        ]
        assert all(bounds[k] <= t < bounds[k + 1] for t in times), k


def test_the_guard_flags_the_phishing_and_passes_the_notification(
    story: dict[str, Any],
) -> None:
    phishing = story["response"]["phishing"]
    assert phishing["watched"] > 0
    kinds = [m["kind"] for m in phishing["messages"]]
    assert kinds.count("phishing") == 3
    assert kinds.count("genuine") == 1
    for message in phishing["messages"]:
        signals = {s["kind"] for s in message["signals"]}
        if message["kind"] == "phishing":
            assert message["verdict"] == "phishing", message
            assert {"watched-recipient", "lookalike-domain", "payment-change"} <= signals
        else:
            assert message["verdict"] == "clean", message
            assert "provider-authenticated" in signals
    assert phishing["phishing_caught"] == 3
    assert phishing["genuine_passed"] == 1
    page = Path(story["report"]).read_text(encoding="utf-8")
    assert "After the leak: the phishing, and the guard" in page
    assert page.count("Verdict: ") == 4
