"""The customer portal's "Verify a message": a notification really sent to the customer
checks out (code, pasted message, uploaded message) with its ledger proof; a wrong code,
a code replayed from another address, and a phishing message do not."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient

from tests.console.conftest import csrf_of, sign_in
from tests.console.world import BOB_EMAIL, Login
from vigile.model import Access, Action, Reason
from vigile.record import Recorder
from vigile.respond import Incidents, Notifications, Scope
from vigile.store import Store

PHISHING = Path(__file__).parents[1] / "phishing" / "golden" / "en-targeted.eml"


def _notified(store: Store, tmp_path: Path) -> bytes:
    """An attacker's reveal of Bob's address at c-1; the incident; its notification sent
    (outbox). Returns the sent message."""
    now = datetime.now(UTC)
    reveal = Access(
        id="e-attack",
        time=now - timedelta(minutes=30),
        agent="a-1",
        session="s-attack",
        action=Action.CONTACT_REVEAL,
        outcome="allowed",
        customer="c-1",
        object="k-1",
        fields=("contact.email", "contact.name"),
        reason=Reason.NONE,
    )
    Recorder(store).record([reveal])
    configured = Store(
        store.engine,
        dataclasses.replace(
            store.settings,
            notify_outbox=str(tmp_path / "out"),
            notify_channels="outbox",  # the key: the default path, in the test's folder
        ),
    )
    incidents = Incidents(configured)
    scope = Scope(agents=("a-1",), since=now - timedelta(hours=1), until=now)
    incident = incidents.open(title="Takeover", scope=scope, actor="sam").id
    notifications = Notifications(incidents)
    notifications.preview(incident, "sam")
    notifications.approve(incident, "sam")
    notifications.send(incident, "sam")
    return (tmp_path / "out" / "sent" / incident / "c-1.eml").read_bytes()


def _code(sent: bytes) -> str:
    message = message_from_bytes(sent, policy=policy.default)
    address, code = message["Vigile-Verification"].split()
    assert address == BOB_EMAIL
    return code


def _post(client: TestClient, **data: str) -> str:
    page = client.get("/console/customer/verify")
    assert page.status_code == 200
    answer = client.post("/console/customer/verify", data={"csrf": csrf_of(page.text), **data})
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_genuine_code_checks_out(
    client: TestClient, store: Store, logins: dict[str, Login], tmp_path: Path
) -> None:
    code = _code(_notified(store, tmp_path))
    sign_in(client, logins["customer"])
    page = _post(client, code=code, address=BOB_EMAIL)
    assert "Genuine" in page
    assert BOB_EMAIL in page
    assert 'id="proof"' in page


def test_the_page_is_in_the_portal(client: TestClient, logins: dict[str, Login]) -> None:
    sign_in(client, logins["customer"])
    page = client.get("/console/customer")
    assert 'href="/console/customer/verify"' in page.text
    sign_in(client, logins["agent"])
    assert client.get("/console/customer/verify").status_code == 403


def test_codes_that_do_not_check_out(
    client: TestClient, store: Store, logins: dict[str, Login], tmp_path: Path
) -> None:
    sent = _notified(store, tmp_path)
    sign_in(client, logins["customer"])
    assert "Not from us" in _post(client, code="AAAA-BBBB-CCCC-DDDD")
    replayed = _post(client, code=_code(sent), address="eve@elsewhere.example")
    assert "Not from us" in replayed
    assert "another address" in replayed
    assert "Not from us" in _post(client, message=PHISHING.read_text())
    assert "Genuine" in _post(client, message=sent.decode())
    upload = client.post(
        "/console/customer/verify",
        data={"csrf": csrf_of(client.get("/console/customer/verify").text)},
        files={"file": ("notice.eml", sent, "message/rfc822")},
    )
    assert "Genuine" in upload.text


def _row_ids(page: str) -> list[str]:
    return re.findall(r'<tr id="access-([^"]+)"', page)


def test_the_access_log_marks_the_incident(
    client: TestClient, store: Store, logins: dict[str, Login], tmp_path: Path
) -> None:
    _notified(store, tmp_path)
    sign_in(client, logins["customer"])
    page = client.get("/console/customer").text
    assert 'id="incidents"' in page
    assert "INC-0001" in page
    assert "We wrote to you about it on" in page
    assert re.search(r'id="access-e-attack" class="[^"]*in-incident', page)
    assert "part of INC-0001" in page
    assert 'id="summary"' in page
    assert "Accesses per day" in page  # the chart
    assert 'data-label="a-1"' in page  # who accessed
    assert 'data-label="contact.email"' in page  # what was seen in clear
    only = client.get("/console/customer", params={"show": "incident"}).text
    assert _row_ids(only) == ["e-attack"]
    clear = _row_ids(client.get("/console/customer", params={"show": "clear"}).text)
    assert "e-attack" in clear
    no_ticket = _row_ids(client.get("/console/customer", params={"show": "no-ticket"}).text)
    assert "e-attack" in no_ticket
    assert "e-attack" not in _row_ids(
        client.get("/console/customer", params={"show": "denied"}).text
    )
    assert client.get("/console/customer", params={"show": "bogus"}).status_code == 422


def test_no_incident_no_notice(client: TestClient, logins: dict[str, Login]) -> None:
    sign_in(client, logins["customer"])
    page = client.get("/console/customer").text
    assert 'id="incidents"' not in page
    assert "in-incident" not in page
