"""Customer notifications: golden messages in English and French, the preview, approval
and sending workflow (never twice), delivery through a real local SMTP server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.mail.inbox import Inbox, smtp_inbox
from tests.respond.sample import run
from vigile.errors import ConfigError
from vigile.ingest import ingest_file
from vigile.respond import (
    Incidents,
    NotificationNotReady,
    Notifications,
    Scope,
)
from vigile.store import Store

DATA = Path(__file__).parent / "data" / "incident.jsonl"
GOLDEN = Path(__file__).parent / "golden"
#: The goldens' verification-code key (their codes are checked in tests/phishing).
CODE_KEY = bytes(range(32))
NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
SCOPE = Scope(
    agents=("a-0017",),
    since=datetime(2021, 5, 20, tzinfo=UTC),
    until=datetime(2021, 5, 31, tzinfo=UTC),
)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_inbox() as running:
        yield running


def _incident(store: Store) -> tuple[Notifications, str]:
    ingest_file(store, DATA)
    incidents = Incidents(store, clock=lambda: NOW)
    incident = incidents.open(title="Agent takeover", scope=SCOPE, actor="ana")
    return Notifications(incidents), incident.id


def _with(store: Store, **settings: Any) -> Store:
    return Store(store.engine, replace(store.settings, **settings))


@pytest.mark.parametrize(("customer", "language"), [("c-00412", "en"), ("c-00500", "fr")])
def test_golden_messages(store: Store, tmp_path: Path, customer: str, language: str) -> None:
    key = tmp_path / "code.key"
    key.write_text(CODE_KEY.hex() + "\n")
    chosen = _with(store, notify_outbox=str(tmp_path / "out"), notify_code_key=str(key))
    service, incident = _incident(chosen)
    preview = service.preview(incident, "ana")
    notice = next(n for n in preview.notices if n.customer == customer)
    assert notice.language == language
    golden = GOLDEN / f"{language}-{customer}.eml"
    if os.environ.get("UPDATE_GOLDEN") == "1":  # regenerate: UPDATE_GOLDEN=1 pytest
        golden.write_bytes(notice.message.as_bytes())
    assert notice.message.as_bytes() == golden.read_bytes()
    assert (tmp_path / "out" / "preview" / incident / f"{customer}.eml").read_bytes() == (
        golden.read_bytes()
    )


def test_languages_come_from_the_customer_then_its_country(store: Store) -> None:
    service, incident = _incident(store)
    notices, unreachable = service.render(incident)
    # c-00600 is in Great Britain but its directory record asks for French.
    assert {n.customer: n.language for n in notices} == {
        "c-00412": "en",
        "c-00500": "fr",
        "c-00600": "fr",
    }
    assert unreachable == []
    english = next(n for n in notices if n.customer == "c-00412").message
    text = english.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    for expected in (
        "May 20, 2021",
        "Check any message that uses these details",
        "Check that this message is ours",
        "billing contact",
        "Ann Example",
        "paypal",
        "GET /v1/transparency/accesses",
        "neither sign in nor be registered again",
    ):
        assert expected in body
    assert english["To"] == "bob@ministry.example, ann@ministry.example"


def test_preview_approve_send_once(store: Store, tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    configured = _with(
        store, notify_outbox=str(tmp_path / "out"), smtp_host="127.0.0.1", smtp_port=port
    )
    service, incident = _incident(configured)
    with pytest.raises(NotificationNotReady, match="nothing approved"):
        service.send(incident, "ana")
    with pytest.raises(NotificationNotReady, match="preview first"):
        service.approve(incident, "ana")
    service.preview(incident, "ana")
    assert service.approve(incident, "bo") == ["c-00412", "c-00500", "c-00600"]
    first = service.send(incident, "bo")
    assert [d.already_sent for d in first] == [False, False, False]
    assert sorted(m["Message-ID"] for m in inbox.messages) == [
        f"<{incident}.c-00412@vigile.local>",
        f"<{incident}.c-00500@vigile.local>",
        f"<{incident}.c-00600@vigile.local>",
    ]
    french = next(m for m in inbox.messages if "c-00500" in m["Message-ID"])
    assert french["Content-Language"] == "fr"
    assert french.get_body(preferencelist=("html",)) is not None
    assert (tmp_path / "out" / "sent" / incident / "c-00500.eml").exists()
    again = service.send(incident, "bo")
    assert [d.already_sent for d in again] == [True, True, True]
    assert len(inbox.messages) == 3
    actions = [e.action for e in service.incidents.timeline(incident)]
    assert actions.count("notification.sent") == 3


def test_a_notice_that_changed_since_preview_is_not_approved(store: Store, tmp_path: Path) -> None:
    service, incident = _incident(_with(store, notify_outbox=str(tmp_path / "out")))
    service.preview(incident, "ana")
    late = tmp_path / "late.jsonl"
    late.write_text(
        '{"kind": "access", "time": "2021-05-25T10:00:00Z", "id": "e-late", "agent": "a-0017",'
        ' "session": "s-9f3", "action": "customer.view", "customer": "c-00412",'
        ' "fields": ["customer.name"], "outcome": "allowed"}\n'
    )
    ingest_file(service.store, late)
    with pytest.raises(NotificationNotReady, match="c-00412 changed since the preview"):
        service.approve(incident, "ana")


def test_templates_can_be_overridden(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "notification" / "en"
    folder.mkdir(parents=True)
    (folder / "subject.txt.j2").write_text("Important: {{ incident }} for {{ customer_name }}\n")
    service, incident = _incident(_with(store, notify_templates=str(tmp_path / "templates")))
    notices, _ = service.render(incident)
    english = next(n for n in notices if n.customer == "c-00412")
    assert english.message["Subject"] == f"Important: {incident} for Ministry of Examples"
    with pytest.raises(ConfigError, match="not a folder"):
        Notifications(Incidents(_with(store, notify_templates=str(tmp_path / "none"))))


def test_unknown_channels_are_a_configuration_error(store: Store) -> None:
    service, incident = _incident(_with(store, notify_channels="outbox,pigeon"))
    service.preview(incident, "ana")
    service.approve(incident, "ana")
    with pytest.raises(ConfigError, match="unknown pigeon"):
        service.send(incident, "ana")


def test_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGILE_DB", "cli.db")
    monkeypatch.setenv("VIGILE_NOTIFY_OUTBOX", str(tmp_path / "out"))
    assert run(capsys, "ingest", str(DATA))[0] == 0
    window = ("--since", "2021-05-20T00:00:00Z", "--until", "2021-05-31T00:00:00Z")
    assert run(capsys, "incident", "open", "--title", "t", "--agent", "a-0017", *window)[0] == 0
    code, out, _ = run(capsys, "incident", "notify", "INC-0001", "--format", "json")
    assert code == 0
    assert '"language": "fr"' in out
    assert run(capsys, "incident", "notify", "INC-0001", "--approve")[0] == 0
    code, out, _ = run(
        capsys, "incident", "notify", "INC-0001", "--send", "--yes", "--format", "json"
    )
    assert code == 0
    assert out.count('"already_sent": false') == 3
    assert len(list((tmp_path / "out" / "sent" / "INC-0001").glob("*.eml"))) == 3


def test_hostile_directory_values_stay_in_their_place(store: Store, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.jsonl"
    records = [
        {"kind": "customer", "id": "../../evil", "name": "Evil\nBcc: all@x.example",
         "country": "US"},
        {"kind": "contact", "id": "k-e1", "customer": "../../evil", "role": "admin",
         "email": "ok@evil.example"},
        {"kind": "contact", "id": "k-e2", "customer": "../../evil", "role": "billing",
         "email": "a@b.example\nBcc: c@d.example"},
        {"kind": "access", "time": "2021-05-21T10:00:00Z", "id": "e-h1", "agent": "a-0017",
         "session": "s-9f3", "action": "customer.view", "customer": "../../evil",
         "fields": ["customer.name"], "outcome": "allowed"},
    ]  # fmt: skip
    hostile.write_text("".join(json.dumps(r) + "\n" for r in records))
    service, incident = _incident(_with(store, notify_outbox=str(tmp_path / "out")))
    ingest_file(service.store, hostile)
    preview = service.preview(incident, "ana")
    notice = next(n for n in preview.notices if n.customer == "../../evil")
    assert notice.message["To"] == "ok@evil.example"
    assert "\n" not in notice.message["Subject"]
    assert all((tmp_path / "out") in path.parents for path in preview.paths)
