"""The agent workspace: queue, justification, masked pages, reveals, grants."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.console.conftest import csrf_of, sign_in
from tests.console.world import BOB_EMAIL, BOB_PHONE, Login
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect


def _accesses(store: Store) -> list[tuple[str, str, str | None]]:
    with connect(store.engine) as conn:
        rows = conn.execute(
            select(t.accesses.c.action, t.accesses.c.outcome, t.accesses.c.ticket).order_by(
                t.accesses.c.seq
            )
        ).all()
    return [(r.action, r.outcome, r.ticket) for r in rows]


def test_the_queue_lists_open_tickets_assigned_to_the_agent(
    client: TestClient, logins: dict[str, Login]
) -> None:
    page = sign_in(client, logins["agent"])
    assert "My open tickets" in page
    assert "T-1" in page
    assert "T-gov" in page


def test_a_customer_page_needs_a_justification_first_and_shows_masked_data(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    sign_in(client, logins["agent"])
    first = client.get("/console/agent/customers/c-1")
    assert "Why are you opening this customer?" in first.text
    assert _accesses(store) == []  # choosing a justification reads nothing
    page = client.get(
        "/console/agent/customers/c-1",
        params={"ticket": "T-1", "reason": "customer_initiated_support"},
    )
    assert page.status_code == 200
    assert "Example Shop" in page.text
    assert BOB_EMAIL not in page.text
    assert BOB_PHONE not in page.text
    assert "admin@shop.example" not in page.text
    assert [a[:2] for a in _accesses(store)] == [
        ("customer.view", "allowed"),
        ("contact.view", "allowed"),
        ("account.view", "allowed"),
        ("subscription.view", "allowed"),
    ]


def test_reveal_with_an_assigned_ticket_shows_the_value_and_records_it(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    sign_in(client, logins["agent"])
    page = client.get(
        "/console/agent/customers/c-1",
        params={"ticket": "T-1", "reason": "customer_initiated_support"},
    )
    answer = client.post(
        "/console/agent/customers/c-1/reveal",
        data={
            "csrf": csrf_of(page.text),
            "object": "k-1",
            "field": "contact.email",
            "ticket": "T-1",
            "reason": "customer_initiated_support",
        },
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert BOB_EMAIL in answer.text
    assert ("contact.reveal", "allowed", "T-1") in _accesses(store)


def test_reveal_without_justification_is_denied_with_a_reason_and_no_value(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    home = sign_in(client, logins["agent"])
    answer = client.post(
        "/console/agent/customers/c-1/reveal",
        data={
            "csrf": csrf_of(home),
            "object": "k-1",
            "field": "contact.email",
            "reason": "none",
        },
    )
    assert answer.status_code == 403
    assert "Denied:" in answer.text
    assert BOB_EMAIL not in answer.text
    assert _accesses(store)[-1][:2] == ("contact.reveal", "denied")


def test_a_post_without_the_csrf_token_is_refused(
    client: TestClient, logins: dict[str, Login], store: Store
) -> None:
    sign_in(client, logins["agent"])
    answer = client.post(
        "/console/agent/customers/c-1/reveal",
        data={
            "object": "k-1",
            "field": "contact.email",
            "ticket": "T-1",
            "reason": "customer_initiated_support",
        },
    )
    assert answer.status_code == 403
    assert BOB_EMAIL not in answer.text
    assert _accesses(store) == []


def test_a_post_from_another_origin_is_refused(
    client: TestClient, logins: dict[str, Login]
) -> None:
    home = sign_in(client, logins["agent"])
    answer = client.post(
        "/console/logout",
        data={"csrf": csrf_of(home)},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403


def test_the_other_roles_cannot_open_the_workspace(
    client: TestClient, logins: dict[str, Login]
) -> None:
    assert sign_in(client, logins["customer"], follow=False) == "/console/customer"
    assert client.get("/console/agent").status_code == 403
