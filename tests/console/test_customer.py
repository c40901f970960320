"""The customer portal: the access log with proofs checked offline, and lockbox approvals."""

from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import csrf_of, sign_in
from tests.console.world import ANN_EMAIL, BOB_EMAIL, Login
from vigile.broker import GrantStatus
from vigile.console import customer as portal
from vigile.store import Store
from vigile.transparency import Transparency

SUPPORT = "customer_initiated_support"
REVIEW = "agent_initiated_review"


def _open_and_reveal(client: TestClient, login: Login) -> None:
    """Agent a-1 opens Example Shop (c-1) with its ticket T-1 and reveals Bob's e-mail."""
    sign_in(client, login)
    page = client.get("/console/agent/customers/c-1", params={"ticket": "T-1", "reason": SUPPORT})
    assert page.status_code == 200
    answer = client.post(
        "/console/agent/customers/c-1/reveal",
        data={
            "csrf": csrf_of(page.text),
            "object": "k-1",
            "field": "contact.email",
            "ticket": "T-1",
            "reason": SUPPORT,
        },
    )
    assert answer.status_code == 200
    assert BOB_EMAIL in answer.text


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr id="access-([^"]+)"', page)


def _reveal_gov(client: TestClient) -> tuple[int, str]:
    """Agent a-1 (signed in) reveals Ann's e-mail at c-gov without a ticket."""
    home = client.get("/console/agent")
    answer = client.post(
        "/console/agent/customers/c-gov/reveal",
        data={
            "csrf": csrf_of(home.text),
            "object": "k-gov",
            "field": "contact.email",
            "reason": REVIEW,
        },
    )
    return answer.status_code, answer.text


def _ask_for_a_grant(client: TestClient, login: Login) -> str:
    """Agent a-1 asks for a contact grant on c-gov without a ticket; returns its id."""
    home = sign_in(client, login)
    asked = client.post(
        "/console/agent/grants",
        data={
            "csrf": csrf_of(home),
            "customer": "c-gov",
            "reason": REVIEW,
            "hours": "1",
            "classes": ["contact"],
        },
    )
    assert asked.status_code == 200, asked.text
    assert "own approver must approve it" in asked.text
    found = re.search(r"Grant <strong>([^<]+)</strong>", asked.text)
    assert found
    return found.group(1)


def test_the_customer_sees_the_agents_access_with_its_ticket_and_a_verified_proof(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    _open_and_reveal(client, logins["agent"])
    Transparency(store).checkpoint()  # signs the accesses into a checkpoint
    landing = sign_in(client, logins["customer"])
    assert "Who accessed my data" in landing
    rows = _rows(landing)
    assert len(rows) == 5  # customer, contacts, accounts, subscriptions, the reveal
    reveal = landing[landing.index(f'id="access-{rows[0]}"') :].split("</tr>")[0]
    assert "contact.reveal" in reveal  # newest first
    assert "a-1" in reveal
    assert "T-1" in reveal
    assert "customer initiated support" in reveal
    assert "in clear: <code>contact.email</code>" in reveal
    assert "allowed" in reveal
    assert ">verified<" in reveal
    assert landing.count(">verified<") == 5
    assert BOB_EMAIL not in landing  # field names, never values


def test_a_search_that_listed_the_customer_is_shown_and_proven_without_its_query(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    sign_in(client, logins["agent"])
    assert client.get("/console/agent/search", params={"q": "Shop"}).status_code == 200
    page = sign_in(client, logins["customer"])
    (event_id,) = _rows(page)
    row = page[page.index(f'id="access-{event_id}"') :].split("</tr>")[0]
    assert "customer.search" in row
    assert "in clear: <code>customer.name</code>" in row
    assert ">verified<" in row  # the leaf hash alone is proven: the entry names others
    assert "Shop" not in row  # not the query, nor the other shop it listed
    assert not re.search(r"\bc-2\b", page)  # (event ids like acc-2f... contain "c-2")
    access = client.get(f"/console/customer/accesses/{event_id}/proof.json").json()["access"]
    assert access["proof"]["leaf_disclosed"] is False


def test_the_proof_file_checks_offline_and_a_tampered_proof_fails(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    _open_and_reveal(client, logins["agent"])
    sign_in(client, logins["customer"])
    event_id = _rows(client.get("/console/customer").text)[0]
    proof = client.get(f"/console/customer/accesses/{event_id}/proof.json")
    assert proof.status_code == 200
    assert proof.json()["access"]["proof"]["status"] == "included"
    transparency = Transparency(store)
    listing = transparency.accesses("c-1")
    entry = listing.entries[-1]
    verifier = transparency.ledger.verifier()
    assert portal.check_proof(entry, listing.checkpoint, verifier)[0] is portal.ProofCheck.VERIFIED
    assert entry.proof.bundle is not None
    wrong_leaf = dataclasses.replace(entry.proof.bundle, leaf_index=entry.proof.leaf_index + 1)
    tampered = dataclasses.replace(entry, proof=dataclasses.replace(entry.proof, bundle=wrong_leaf))
    assert portal.check_proof(tampered, listing.checkpoint, verifier)[0] is portal.ProofCheck.FAILED
    other = listing.entries[0]
    assert other.event_id != entry.event_id
    swapped = dataclasses.replace(other, proof=entry.proof)  # another access's proof
    assert portal.check_proof(swapped, listing.checkpoint, verifier)[0] is portal.ProofCheck.FAILED
    pending = dataclasses.replace(
        entry, proof=dataclasses.replace(entry.proof, status="pending", bundle=None)
    )
    assert portal.check_proof(pending, listing.checkpoint, verifier)[0] is portal.ProofCheck.PENDING
    assert portal.check_proof(entry, listing.checkpoint, None)[0] is portal.ProofCheck.FAILED


def test_the_log_is_paged_newest_first_without_gaps_or_repeats(
    client: TestClient, logins: dict[str, Login], monkeypatch: pytest.MonkeyPatch
) -> None:
    _open_and_reveal(client, logins["agent"])
    _open_and_reveal(client, logins["agent"])
    sign_in(client, logins["customer"])
    everything = _rows(client.get("/console/customer").text)
    assert len(everything) == 10
    monkeypatch.setattr(portal, "PAGE_SIZE", 3)
    seen: list[str] = []
    url: str | None = "/console/customer"
    while url is not None:
        page = client.get(url).text
        rows = _rows(page)
        assert 0 < len(rows) <= 3
        seen += rows
        older = re.search(r'class="older" href="([^"]+)"', page)
        url = older.group(1) if older else None
    assert seen == everything


def test_the_approver_approves_a_lockbox_grant_and_the_agents_reveal_then_succeeds(
    client: TestClient, logins: dict[str, Login]
) -> None:
    sign_in(client, logins["agent"])
    status, text = _reveal_gov(client)
    assert status == 403
    assert ANN_EMAIL not in text
    grant_id = _ask_for_a_grant(client, logins["agent"])
    approvals = client.get("/console/customer/approvals")
    assert approvals.status_code == 403  # an agent is not the customer
    page = sign_in(client, logins["approver"])
    listed = client.get("/console/customer/approvals").text
    assert "Lockbox" in listed
    assert f'action="/console/customer/approvals/{grant_id}/approve"' in listed
    decided = client.post(
        f"/console/customer/approvals/{grant_id}/approve", data={"csrf": csrf_of(page)}
    )
    assert decided.status_code == 200
    after = decided.text
    assert "No request is waiting." in after
    assert f"<td>{grant_id}</td>" in after
    assert "approved" in after
    sign_in(client, logins["agent"])
    status, text = _reveal_gov(client)
    assert status == 200
    assert ANN_EMAIL in text


def test_the_approver_can_deny(client: TestClient, logins: dict[str, Login]) -> None:
    grant_id = _ask_for_a_grant(client, logins["agent"])
    page = sign_in(client, logins["approver"])
    denied = client.post(
        f"/console/customer/approvals/{grant_id}/deny", data={"csrf": csrf_of(page)}
    )
    assert denied.status_code == 200
    assert "status-denied" in denied.text
    again = client.post(
        f"/console/customer/approvals/{grant_id}/approve", data={"csrf": csrf_of(page)}
    )
    assert again.status_code == 409
    sign_in(client, logins["agent"])
    assert _reveal_gov(client)[0] == 403


def test_a_customer_never_sees_another_customers_accesses_or_grants(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    grant_id = _ask_for_a_grant(client, logins["agent"])
    _reveal_gov(client)  # denied, but an access to c-gov all the same
    gov = [entry.event_id for entry in Transparency(store).accesses("c-gov").entries]
    assert gov
    page = sign_in(client, logins["customer"])
    assert _rows(page) == []
    assert grant_id not in client.get("/console/customer/approvals").text
    for event_id in gov:
        assert client.get(f"/console/customer/accesses/{event_id}/proof.json").status_code == 404
    refused = client.post(
        f"/console/customer/approvals/{grant_id}/approve", data={"csrf": csrf_of(page)}
    )
    assert refused.status_code == 404
    refused = client.post(
        f"/console/customer/approvals/{grant_id}/deny", data={"csrf": csrf_of(page)}
    )
    assert refused.status_code == 404
    (grant,) = client.app.state.broker.grants.history(customer="c-gov")
    assert grant.status is GrantStatus.PENDING


def test_a_decision_needs_the_csrf_token(client: TestClient, logins: dict[str, Login]) -> None:
    grant_id = _ask_for_a_grant(client, logins["agent"])
    sign_in(client, logins["approver"])
    refused = client.post(f"/console/customer/approvals/{grant_id}/approve")
    assert refused.status_code == 403
    assert "Approve" in client.get("/console/customer/approvals").text


@pytest.mark.parametrize("role", ["agent", "supervisor", "analyst"])
def test_the_other_roles_cannot_open_the_portal(
    client: TestClient, logins: dict[str, Login], role: str
) -> None:
    page = sign_in(client, logins[role], follow=False)
    assert page != "/console/customer"
    assert client.get("/console/customer").status_code == 403
    assert client.get("/console/customer/approvals").status_code == 403
    assert client.get("/console/customer/accesses/e-1/proof.json").status_code == 403


def test_signed_out_the_portal_sends_to_the_sign_in_page(client: TestClient) -> None:
    answer = client.get("/console/customer", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=")
