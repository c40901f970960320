"""Ticket steps the ticketing system sends again: a resend (same id, same step) is a
duplicate, reported as such and kept once; a step reusing a stored id with other content
is refused naming it, and nothing of its request is stored (before, it was dropped in
silence and counted as accepted: a ``closed`` step lost that way left the ticket open)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tests.broker import test_api
from tests.broker.test_api import INTEGRATION, SUPPORT, TestClient, _error, _token
from vigile.model.times import format_rfc3339
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

# The HTTP API's fixtures (an app over the store, local and OIDC tokens).
oidc_key, api_settings, client = test_api.oidc_key, test_api.api_settings, test_api.client
INTEGRATED = {"Authorization": f"Bearer {INTEGRATION}"}
NOW = datetime.now(UTC)


def _step(step_id: str, minutes_ago: int, event: str, **more: str) -> dict[str, Any]:
    at = format_rfc3339(NOW - timedelta(minutes=minutes_ago))
    return {"kind": "ticket", "id": step_id, "time": at, "ticket": "T-5", "event": event} | more


OPENED = _step("evt-1", 30, "opened", customer="c-2")
ASSIGNED = _step("evt-2", 29, "assigned", agent="a-1")


def _stored(store: Store) -> int:
    with connect(store.engine) as conn:
        query = select(func.count()).select_from(t.ticket_events)
        return int(conn.execute(query.where(t.ticket_events.c.ticket == "T-5")).scalar_one())


def test_a_resend_is_reported_as_duplicates_and_kept_once(client: TestClient, store: Store) -> None:
    first = client.post("/v1/integrations/tickets", headers=INTEGRATED, json=[OPENED])
    assert first.json() == {"accepted": 1, "duplicates": []}
    again = client.post("/v1/integrations/tickets", headers=INTEGRATED, json=[OPENED, ASSIGNED])
    assert again.json() == {"accepted": 1, "duplicates": ["evt-1"]}
    twice = client.post("/v1/integrations/tickets", headers=INTEGRATED, json=[ASSIGNED, ASSIGNED])
    assert twice.json() == {"accepted": 0, "duplicates": ["evt-2", "evt-2"]}
    assert _stored(store) == 2


def test_a_step_reusing_a_stored_id_is_refused_and_nothing_is_stored(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    client.post("/v1/integrations/tickets", headers=INTEGRATED, json=[OPENED, ASSIGNED])
    justified = {"ticket": "T-5", "reason": SUPPORT}
    agent = _token(api_settings, "a-1")
    assert client.get("/v1/customers/c-2", params=justified, headers=agent).is_success
    other = _step("evt-3", 2, "assigned", agent="a-3")
    closed = _step("evt-2", 1, "closed")  # its id reused by mistake
    refused = client.post("/v1/integrations/tickets", headers=INTEGRATED, json=[other, closed])
    message = _error(refused, 422)["message"]
    assert "record 1" in message
    assert "'evt-2' is already taken" in message
    assert _stored(store) == 2  # not even the good step: the request is refused whole
    # Sent again with its own id, the close is stored and the ticket justifies no more.
    fixed = client.post(
        "/v1/integrations/tickets", headers=INTEGRATED, json=[_step("evt-4", 1, "closed")]
    )
    assert fixed.json() == {"accepted": 1, "duplicates": []}
    _error(client.get("/v1/customers/c-2", params=justified, headers=agent), 403)


def test_two_different_steps_with_one_id_in_one_request_are_refused(
    client: TestClient, store: Store
) -> None:
    refused = client.post(
        "/v1/integrations/tickets",
        headers=INTEGRATED,
        json=[OPENED, _step("evt-1", 29, "assigned", agent="a-1")],
    )
    assert "record 1: id 'evt-1' is already taken" in _error(refused, 422)["message"]
    assert _stored(store) == 0
