"""The breach record: JSON with the Art. 33(5) parts, and a self-contained HTML report."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.respond.sample import run
from vigile.ingest import ingest_file
from vigile.respond import (
    Incidents,
    Remediation,
    Scope,
    breach_record,
    render_html,
)
from vigile.store import Store

DATA = Path(__file__).parent / "data" / "incident.jsonl"
NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
SCOPE = Scope(
    agents=("a-0017",),
    since=datetime(2021, 5, 20, tzinfo=UTC),
    until=datetime(2021, 5, 31, tzinfo=UTC),
)


class _Loads(HTMLParser):
    """Collects every tag that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag in ("script", "link", "img", "iframe") or names & {"src", "href"}:
            self.fetches.append(tag)


def test_the_record_and_its_report(store: Store) -> None:
    ingest_file(store, DATA)
    incidents = Incidents(store, clock=lambda: NOW)
    incident = incidents.open(title="Agent <takeover>", scope=SCOPE, actor="ana")
    Remediation(incidents).apply(incident.id, "ana")
    record = breach_record(incidents, incident.id)
    document = record.to_json()
    assert set(document) >= {"incident", "clock", "facts", "effects", "remedial_action"}
    assert document["clock"]["art33_deadline"] == "2021-06-04T09:00:00Z"
    assert document["facts"]["customers_affected"] == 3
    assert sum(a["applied"] for a in document["remedial_action"]["actions"]) == 3
    assert document["effects"]["suggested_high_risk"] == {
        "high_risk": True,
        "reasons": [
            "accounts of 2 customer(s) seen in clear",
            "billing of 1 customer(s) seen in clear",
            "contacts of 2 customer(s) seen in clear",
        ],
    }
    assert [day for day, _ in record.daily_accesses] == [
        date(2021, 5, 20),
        date(2021, 5, 21),
        date(2021, 5, 22),
    ]
    assert [count for _, count in record.daily_accesses] == [2, 1, 3]
    html = render_html(record)
    parser = _Loads()
    parser.feed(html)
    assert parser.fetches == []
    assert "<svg" in html
    assert html.count("<rect") == 3
    assert "Agent &lt;takeover&gt;" in html  # escaped, never markup
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)


def test_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGILE_DB", "cli.db")
    assert run(capsys, "ingest", str(DATA))[0] == 0
    window = ("--since", "2021-05-20T00:00:00Z", "--until", "2021-05-31T00:00:00Z")
    assert run(capsys, "incident", "open", "--title", "t", "--agent", "a-0017", *window)[0] == 0
    code, out, _ = run(capsys, "incident", "report", "INC-0001")
    assert code == 0
    assert json.loads(out)["format"] == "vigile-breach-record"
    target = tmp_path / "record.html"
    code, _, _ = run(
        capsys, "incident", "report", "INC-0001", "--format", "html", "--out", str(target)
    )
    assert code == 0
    assert target.read_text().startswith("<!DOCTYPE html>")
    code, out, _ = run(capsys, "incident", "show", "INC-0001", "--format", "json")
    assert [e["action"] for e in json.loads(out)["timeline"]].count("incident.reported") == 2
