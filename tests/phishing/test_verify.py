"""Verification codes: a reference computation against the notification goldens, and the
codes checked end to end (sent through the outbox, looked up in the ledger) - genuine,
and not forgeable without the key: wrong key, altered recipient, replayed to another
contact, a forged code in a message, a message never sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from vigile.api.app import create_app
from vigile.ingest import ingest_file
from vigile.ledger import Verifier, verify_inclusion_bundle
from vigile.ledger.service import public_key_path
from vigile.phishing.verify import verify_code, verify_message
from vigile.respond import Incidents, Notifications, Scope
from vigile.respond.codes import load_code_key, normalize_code
from vigile.store import Store

RESPOND = Path(__file__).parents[1] / "respond"
KEY = bytes(range(32))  # the key of tests/respond/golden (tests/respond/test_notifications.py)
NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)


def _reference(key: bytes, message_id: str, recipient: str) -> str:
    """The code by the letter of vigile.respond.codes' docstring, written apart."""
    data = b"vigile notification code v1\x00" + f"{message_id}\x00{recipient}".encode()
    letters = base64.b32encode(hmac.new(key, data, hashlib.sha256).digest()[:10]).decode()
    return f"{letters[0:4]}-{letters[4:8]}-{letters[8:12]}-{letters[12:16]}"


@pytest.mark.parametrize("golden", ["en-c-00412.eml", "fr-c-00500.eml"])
def test_golden_codes_match_the_reference(golden: str) -> None:
    message = message_from_bytes((RESPOND / "golden" / golden).read_bytes(), policy=policy.default)
    headers = message.get_all("Vigile-Verification")
    assert headers
    recipients = [a.addr_spec for a in message["To"].addresses]
    assert [h.split()[0] for h in headers] == recipients
    text = message.get_body(preferencelist=("plain",)).get_content()
    for header in headers:
        recipient, code = header.split()
        assert code == _reference(KEY, message["Message-ID"], recipient)
        assert f"{recipient}: {code}" in text or f"{recipient} : {code}" in text


def test_codes_are_typed_back_loosely() -> None:
    assert normalize_code(" v32g b3bq 4slw x55r ") == "V32G-B3BQ-4SLW-X55R"
    assert normalize_code("V32G-B3BQ-4SLW-X55R") == "V32G-B3BQ-4SLW-X55R"
    assert normalize_code("1OOO-OOOO-OOOO-OOO0") == "IOOO-OOOO-OOOO-OOOO"  # misread digits
    assert normalize_code("ABCD") == ""
    assert normalize_code("ABCD-EFGH-IJKL-MNO@") == ""


def _sent(store: Store, tmp_path: Path) -> tuple[Store, bytes, Path]:
    chosen = replace(
        store.settings,
        notify_outbox=str(tmp_path / "out"),
        notify_channels="outbox",
        notify_code_key=str(tmp_path / "code.key"),
    )
    configured = Store(store.engine, chosen)
    ingest_file(configured, RESPOND / "data" / "incident.jsonl")
    incidents = Incidents(configured, clock=lambda: NOW)
    scope = Scope(
        agents=("a-0017",),
        since=datetime(2021, 5, 20, tzinfo=UTC),
        until=datetime(2021, 5, 31, tzinfo=UTC),
    )
    incident = incidents.open(title="Agent takeover", scope=scope, actor="ana").id
    service = Notifications(incidents)
    service.preview(incident, "ana")
    service.approve(incident, "ana")
    service.send(incident, "ana")
    key = load_code_key(tmp_path / "code.key", create=False)
    return configured, key, tmp_path / "out" / "sent" / incident / "c-00412.eml"


def _code_of(path: Path, recipient: str) -> str:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    return next(
        h.split()[1] for h in message.get_all("Vigile-Verification") if h.startswith(recipient)
    )


def test_a_genuine_code(store: Store, tmp_path: Path) -> None:
    configured, key, sent = _sent(store, tmp_path)
    code = _code_of(sent, "ann@ministry.example")
    found = verify_code(configured, key, code.lower().replace("-", " "), "Ann@Ministry.example")
    assert found.genuine, found.reason
    assert found.recipient == "ann@ministry.example"
    assert found.sent is not None
    assert found.sent.incident == "INC-0001"
    assert found.sent.message_id == "<INC-0001.c-00412@vigile.local>"
    assert found.sent.sent == NOW
    assert "ann@ministry.example" in found.reason
    # the proof checks out offline against the ledger's public key
    assert found.proof is not None
    verifier = Verifier.from_vkey(public_key_path(configured.settings).read_text())
    proof = dict(found.proof)
    note = str(proof.pop("checkpoint"))
    verified = verify_inclusion_bundle(verifier=verifier, checkpoint_note=note, bundle=proof)
    assert verified is not None


def test_a_code_under_another_key(store: Store, tmp_path: Path) -> None:
    configured, key, sent = _sent(store, tmp_path)
    forged = _reference(bytes(32), "<INC-0001.c-00412@vigile.local>", "ann@ministry.example")
    assert not verify_code(configured, key, forged).genuine
    code = _code_of(sent, "ann@ministry.example")
    assert not verify_code(configured, bytes(32), code).genuine  # checked with a wrong key


def test_a_code_for_an_altered_recipient(store: Store, tmp_path: Path) -> None:
    configured, key, _ = _sent(store, tmp_path)
    # a code made (with the real key) for an address the message never went to
    made = _reference(key, "<INC-0001.c-00412@vigile.local>", "eve@ministry.example")
    assert not verify_code(configured, key, made).genuine


def test_a_code_replayed_to_another_contact(store: Store, tmp_path: Path) -> None:
    configured, key, sent = _sent(store, tmp_path)
    code = _code_of(sent, "ann@ministry.example")
    found = verify_code(configured, key, code, "bob@ministry.example")
    assert not found.genuine
    assert "another address" in found.reason
    assert found.proof is None


def test_a_genuine_message(store: Store, tmp_path: Path) -> None:
    configured, key, sent = _sent(store, tmp_path)
    found = verify_message(configured, key, sent.read_bytes(), "bob@ministry.example")
    assert found.genuine, found.reason
    assert found.proof is not None


def test_a_message_replayed_to_another_contact(store: Store, tmp_path: Path) -> None:
    configured, key, sent = _sent(store, tmp_path)
    raw = sent.read_bytes().replace(
        b"To: bob@ministry.example, ann@ministry.example", b"To: eve@ministry.example"
    )
    found = verify_message(configured, key, raw)
    assert not found.genuine
    assert "eve@ministry.example" in found.reason
    assert not verify_message(configured, key, sent.read_bytes(), "eve@elsewhere.example").genuine


def test_a_message_with_a_forged_code(store: Store, tmp_path: Path) -> None:
    configured, key, sent = _sent(store, tmp_path)
    code = _code_of(sent, "ann@ministry.example")
    raw = sent.read_bytes().replace(code.encode(), b"AAAA-BBBB-CCCC-DDDD")
    found = verify_message(configured, key, raw)
    assert not found.genuine
    assert "AAAA-BBBB-CCCC-DDDD" in found.reason


def test_a_message_we_never_sent(store: Store, tmp_path: Path) -> None:
    configured, key, _ = _sent(store, tmp_path)
    raw = (Path(__file__).parent / "golden" / "en-targeted.eml").read_bytes()
    assert not verify_message(configured, key, raw).genuine
    assert not verify_code(configured, key, "not a code").genuine


def test_the_api(store: Store, tmp_path: Path) -> None:
    configured, _, sent = _sent(store, tmp_path)
    settings = replace(configured.settings, broker_token_key=str(tmp_path / "broker.key"))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from fastapi.testclient import TestClient  # noqa: PLC0415

    app = create_app(settings, store=Store(configured.engine, settings))
    with TestClient(app) as client:
        code = _code_of(sent, "bob@ministry.example")
        genuine = client.post("/v1/mail/verify", json={"code": code})
        assert genuine.status_code == 200
        body = genuine.json()
        assert body["genuine"] is True
        assert body["recipient"] == "bob@ministry.example"
        assert body["incident"] == "INC-0001"
        assert body["sent"] == "2021-06-01T09:00:00Z"
        assert set(body["proof"]) >= {"leaf_index", "tree_size", "proof", "checkpoint"}
        replayed = client.post(
            "/v1/mail/verify", json={"code": code, "address": "ann@ministry.example"}
        )
        assert replayed.json()["genuine"] is False
        whole = client.post("/v1/mail/verify", json={"message": sent.read_text()})
        assert whole.json()["genuine"] is True
        empty = client.post("/v1/mail/verify", json={})
        assert empty.status_code == 422
        assert "code" in empty.json()["error"]["message"]
        unknown = client.post("/v1/mail/verify", json={"code": "x", "extra": 1})
        assert unknown.status_code == 422
