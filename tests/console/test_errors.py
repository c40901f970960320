"""The console answers a domain's errors with the status and title of their family in the
one table (:data:`vigile.errors.ANSWERS`), as pages: a missing alert or incident is a
404, a broker refusal shows on the page that asked, never the API's JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from tests.console.conftest import csrf_of, sign_in
from tests.console.world import Login


def _assert_page(answer: Response, status: int, title: str) -> str:
    """The error page of a family: its status and title; returns the page."""
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert f"<h1>{title}</h1>" in answer.text
    assert "Traceback" not in answer.text
    return answer.text


def test_an_unknown_alert_is_the_detections_not_found(
    client: TestClient, logins: dict[str, Login]
) -> None:
    page = sign_in(client, logins["analyst"])
    answer = client.post(
        "/console/analyst/alerts/999/status",
        data={"csrf": csrf_of(page), "status": "acknowledged"},
        follow_redirects=False,
    )
    # AlertBook.set_status raised detect.AlertNotFound: its message, a 404.
    assert "no alert with id 999" in _assert_page(answer, 404, "Not found")


def test_an_unknown_incident_is_a_404(client: TestClient, logins: dict[str, Login]) -> None:
    sign_in(client, logins["analyst"])
    answer = client.get("/console/analyst/incidents/INC-9999")
    assert "no incident INC-9999" in _assert_page(answer, 404, "Not found")


def test_a_supervisor_deciding_an_unknown_grant_is_told_it_is_not_found(
    client: TestClient, logins: dict[str, Login]
) -> None:
    page = sign_in(client, logins["supervisor"])
    answer = client.post(
        "/console/agent/grants/g-nope/approve",
        data={"csrf": csrf_of(page)},
        follow_redirects=False,
    )
    assert "no grant" in _assert_page(answer, 404, "Not found")  # was a 403


def test_a_search_too_short_is_said_on_the_search_page(
    client: TestClient, logins: dict[str, Login]
) -> None:
    sign_in(client, logins["agent"])
    answer = client.get("/console/agent/search", params={"q": "ab"})
    assert answer.status_code == 422  # was the API's JSON
    assert answer.headers["content-type"].startswith("text/html")
    assert "at least 3 characters" in answer.text
