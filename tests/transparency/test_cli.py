"""``vigile transparency``, ``vigile customer-token`` and ``vigile serve``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.transparency.sample import (
    EVENTS,
    OWN,
    assert_no_agent_name,
    sample_store,
)
from vigile.cli.app import main
from vigile.respond import Incidents, Reader, Shown
from vigile.store import Store
from vigile.transparency import CSV_HEADER, authenticate


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    # The commands only translate: one engine is enough (the domain tests run on both).
    with sample_store("sqlite", tmp_path_factory.mktemp("cli")) as store:
        yield store


@pytest.fixture(autouse=True)
def _use_sample(sample: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGILE_DB", sample.settings.db)
    monkeypatch.setenv("VIGILE_LEDGER_KEY", sample.settings.ledger_key)
    monkeypatch.setenv("COLUMNS", "250")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def test_every_format_lists_the_same_accesses(capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = run(capsys, "transparency", OWN)
    assert code == 0
    assert all(event_id in text for event_id in EVENTS[OWN])
    assert "fabrikam-outsourcing" in text
    code, out, _ = run(capsys, "transparency", OWN, "--format", "json")
    listing = json.loads(out)
    assert [access["event_id"] for access in listing["accesses"]] == EVENTS[OWN]
    code, out, _ = run(capsys, "transparency", OWN, "--format", "csv")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert (tuple(rows[0]), len(rows)) == (CSV_HEADER, 5)
    code, ocsf, _ = run(capsys, "transparency", OWN, "--format", "ocsf")
    assert [event["metadata"]["uid"] for event in json.loads(ocsf)] == EVENTS[OWN]
    for output in (text, out, ocsf):
        assert_no_agent_name(output)


def test_an_analysts_read_is_listed_with_its_incident(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sample_store("sqlite", tmp_path) as store:
        [read] = Incidents(store).record_reads(
            "INC-0001",
            Reader(agent="sam", session="s-9", ip="192.0.2.1"),
            [Shown(customer=OWN, fields=("customer.name",), masked_fields=("contact.email",))],
        )
        monkeypatch.setenv("VIGILE_DB", store.settings.db)
        monkeypatch.setenv("VIGILE_LEDGER_KEY", store.settings.ledger_key)
        code, text, _ = run(capsys, "transparency", OWN)
    assert code == 0
    assert read.id[:20] in text
    assert "agent_initiated_review" in text  # the cell wraps before the incident
    assert "incident INC-0001" in text


def test_window_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "transparency", OWN, "--since", "2021-05-21T00:00:00Z", "--format", "json"
    )
    assert (code, [a["event_id"] for a in json.loads(out)["accesses"]]) == (0, ["e-13"])
    code, _, err = run(capsys, "transparency", "c-nobody")
    assert (code, "no customer 'c-nobody' in the store" in err) == (1, True)
    code, _, err = run(capsys, "transparency", OWN, "--since", "yesterday")
    assert (code, "since: not an RFC 3339 time" in err, "Traceback" in err) == (1, True, False)
    code, _, err = run(capsys, "transparency", OWN, "--format", "xml")
    assert code == 2


def test_customer_token_is_printed_once_and_revocable(
    capsys: pytest.CaptureFixture[str], sample: Store
) -> None:
    code, out, _ = run(capsys, "customer-token", OWN, "--format", "json")
    issued = json.loads(out)
    assert (code, issued["customer"]) == (0, OWN)
    assert authenticate(sample.engine, issued["token"]) == OWN
    code, out, _ = run(capsys, "customer-token", OWN)
    assert code == 0
    assert "shown only now" in out
    code, out, _ = run(capsys, "customer-token", OWN, "--revoke-all", "--format", "json")
    assert json.loads(out) == {"customer": OWN, "revoked": 2}
    code, _, err = run(capsys, "customer-token", "c-nobody")
    assert (code, "no customer 'c-nobody'" in err) == (1, True)


def test_serve_runs_the_api_on_loopback_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    assert run(capsys, "serve")[0] == 0
    code, _, err = run(capsys, "serve", "--host", "0.0.0.0", "--port", "9000")
    assert code == 0
    assert calls[0]["host"] == "127.0.0.1"
    assert calls[0]["port"] == 8000
    assert (calls[1]["host"], calls[1]["port"]) == ("0.0.0.0", 9000)
    assert "reachable from the network" in err
    # Nobody's X-Forwarded-For is believed (uvicorn's default: 127.0.0.1's, or the
    # FORWARDED_ALLOW_IPS variable's); connections are bounded.
    assert (calls[0]["proxy_headers"], calls[0]["forwarded_allow_ips"]) == (False, [])
    assert calls[0]["limit_concurrency"] == 256
    monkeypatch.setenv("VIGILE_SERVE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("VIGILE_SERVE_MAX_CONNECTIONS", "40")
    assert run(capsys, "serve")[0] == 0
    assert calls[2]["proxy_headers"] is True
    assert calls[2]["forwarded_allow_ips"] == ["127.0.0.1", "10.0.0.0/8"]
    assert calls[2]["limit_concurrency"] == 40


def test_serve_refuses_a_missing_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "absent.db"))
    code, _, err = run(capsys, "serve")
    assert (code, "no Vigile store here" in err) == (1, True)
