"""Every time and number a console page takes is bounded: out of range, it is the error
page (422, "Invalid request") naming the parameter, never an overflow deeper down (a 500);
at the very edges of its range, the page still works (issue 16, item 3)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.console.conftest import csrf_of, sign_in
from tests.console.world import Login
from vigile.model.times import EARLIEST_US, LATEST_US

INT64_MAX = 2**63 - 1


def _refused(answer: Response, parameter: str) -> None:
    """The console's error page for invalid input, naming ``parameter``."""
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Invalid request</h1>" in answer.text
    assert re.search(rf"\b{parameter}: ", answer.text), answer.text


@pytest.mark.parametrize(
    "before",
    [
        "99999999999999999999",  # past int64: the store's driver cannot take it
        str(INT64_MAX),  # a datetime cannot hold it
        str(LATEST_US + 1),  # the first microsecond of year 10000
        str(EARLIEST_US),  # nothing can be older: the page before it would start earlier
        "not-a-number",
    ],
)
def test_the_customer_portals_cursor_is_bounded(
    client: TestClient, logins: dict[str, Login], before: str
) -> None:
    sign_in(client, logins["customer"])
    _refused(client.get("/console/customer", params={"before": before}), "before")


def test_the_customer_portal_pages_at_the_edges_of_time(
    client: TestClient, logins: dict[str, Login]
) -> None:
    sign_in(client, logins["customer"])
    for before in (LATEST_US, EARLIEST_US + 1, -1):  # -1: before 1970 is a time too
        assert client.get("/console/customer", params={"before": before}).status_code == 200


@pytest.mark.parametrize("end", ["9999-12-31", "0001-01-01", "9999-12-01", "0001-01-31"])
def test_the_agent_pages_window_stays_in_the_calendar(
    client: TestClient, logins: dict[str, Login], end: str
) -> None:
    # The page charts the days before ``end`` and links the windows either side of it.
    sign_in(client, logins["analyst"])
    _refused(client.get("/console/analyst/agents/a-1", params={"end": end}), "end")


def test_the_agent_page_at_the_edges_of_the_calendar(
    client: TestClient, logins: dict[str, Login]
) -> None:
    sign_in(client, logins["analyst"])
    for end in ("0001-02-01", "9999-11-30"):
        page = client.get("/console/analyst/agents/a-1", params={"end": end, "days": 31})
        assert page.status_code == 200
        for link in re.findall(r'href="(\?end=[^"]+)"', page.text):  # earlier, later
            moved = client.get("/console/analyst/agents/a-1" + link.replace("&amp;", "&"))
            assert moved.status_code == 200


@pytest.mark.parametrize("action", ["status", "incident"])
def test_an_alert_id_is_bounded(client: TestClient, logins: dict[str, Login], action: str) -> None:
    page = sign_in(client, logins["analyst"])
    for alert_id in ("99999999999999999999", str(INT64_MAX + 1), "0"):
        answer = client.post(
            f"/console/analyst/alerts/{alert_id}/{action}",
            data={"csrf": csrf_of(page), "status": "acknowledged"},
            follow_redirects=False,
        )
        _refused(answer, "alert_id")


def test_any_invalid_parameter_is_the_error_page_not_the_apis_json(
    client: TestClient, logins: dict[str, Login]
) -> None:
    sign_in(client, logins["analyst"])
    _refused(client.get("/console/analyst/agents/a-1", params={"days": 0}), "days")
