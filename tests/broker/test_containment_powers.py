"""A suspended agent keeps no power: it is refused at authentication for every
operation that is not a data request (a failed sign-in with the reason), while its data
requests are still denied by the policies and recorded; nobody lifts their own
suspension; approving, denying, suspending and resuming need a second factor whatever
``VIGILE_BROKER_REQUIRE_MFA`` says; tokens issued before a suspension or a resume are
refused after it, in every broker process."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.broker import test_api
from tests.broker.conftest import DIRECTORY, Clock, accesses, audits, principal
from tests.broker.test_api import SUPPORT, TestClient, _error, _token
from vigile.broker import Broker, Forbidden, GrantStatus, LocalTokens, Principal, Unauthenticated
from vigile.broker import operations as ops
from vigile.model import Agent
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

# The HTTP API's fixtures (an app over the store, local and OIDC tokens).
oidc_key, api_settings, client = test_api.oidc_key, test_api.api_settings, test_api.client
ANALYSTS = [Agent(id="an-1", tier=3, team="soc"), Agent(id="an-2", tier=3, team="soc")]


def failed_signins(store: Store, agent: str) -> list[str]:
    """The reasons of ``agent``'s failed sign-ins, in order."""
    query = select(t.signins).where(t.signins.c.agent == agent, t.signins.c.outcome == "failure")
    with connect(store.engine) as conn:
        rows = conn.execute(query.order_by(t.signins.c.seq)).mappings().all()
    return [json.loads(row["extra"] or "{}").get("reason", "") for row in rows]


@pytest.fixture
def contained(broker: Broker, store: Store) -> Broker:
    """The broker, analysts an-1 and an-2 in the directory, and a pending grant of a-1."""
    Recorder(store).record(ANALYSTS)
    return broker


def _pending(broker: Broker) -> str:
    return broker.grants.request(
        agent="a-1",
        customer="c-2",
        classes=("contact",),
        duration=timedelta(minutes=10),
        reason="agent_initiated_review",
        ticket=None,
        lockbox=False,
    ).id


# Every operation that is not a data request, as a suspended agent holding the role
# would try it: (what, role, the call).
_OPERATIONS: list[tuple[str, str, Callable[[Broker, Principal, str], object]]] = [
    ("approving a grant", "supervisor", ops.approve_grant),
    ("denying a grant", "supervisor", ops.deny_grant),
    ("revoking a grant", "supervisor", ops.revoke_grant),
    ("listing grants", "supervisor", lambda b, p, g: ops.grants_for(b, p, None)),
    ("reading a grant", "supervisor", ops.grant_for),
    ("suspending an agent", "analyst", lambda b, p, g: ops.suspend_agent(b, p, "a-2", "x")),
    ("resuming an agent", "analyst", lambda b, p, g: ops.resume_agent(b, p, "an-1", "x")),
    ("resuming an agent", "analyst", lambda b, p, g: ops.resume_agent(b, p, "a-3", "x")),
]


@pytest.mark.parametrize(("what", "role", "call"), _OPERATIONS)
def test_a_suspended_agent_is_refused_every_operation_whatever_its_roles(
    contained: Broker,
    store: Store,
    what: str,
    role: str,
    call: Callable[[Broker, Principal, str], object],
) -> None:
    grant = _pending(contained)
    contained.suspend("a-3", "earlier alert", actor="an-2")
    contained.suspend("an-1", "insider alert", actor="an-2")
    before = len(audits(store))
    with pytest.raises(Unauthenticated, match=f"an-1 is suspended: {what} is refused"):
        call(contained, principal("an-1", role), grant)
    assert failed_signins(store, "an-1") == [f"agent an-1 is suspended: {what} is refused"]
    assert len(audits(store)) == before  # nothing was done
    assert contained.grants.get(grant).status is GrantStatus.PENDING
    assert contained.containment.suspension_of("an-1") == "insider alert"
    assert contained.containment.suspension_of("a-3") == "earlier alert"


def test_a_suspended_agents_data_requests_are_still_denied_by_policy_and_recorded(
    contained: Broker, store: Store
) -> None:
    contained.suspend("a-1", "insider alert", actor="an-2")
    with pytest.raises(Forbidden, match="suspended"):
        contained.view_list(principal("a-1"), "c-1", "contacts", ticket="T-1", reason=SUPPORT)
    denied = accesses(store)[-1]
    assert (denied["agent"], denied["outcome"]) == ("a-1", "denied")
    assert "suspended-agent" in json.loads(denied["extra"])["policies"]


def test_nobody_lifts_their_own_suspension(contained: Broker) -> None:
    contained.suspend("an-1", "insider alert", actor="an-2")
    with pytest.raises(Forbidden, match="own suspension"):
        contained.containment.resume("an-1", actor="an-1", reason="me")
    assert contained.containment.suspension_of("an-1") == "insider alert"
    # Not suspended, an analyst still may not "resume" itself.
    with pytest.raises(Forbidden, match="own suspension"):
        ops.resume_agent(contained, principal("an-2", "analyst"), "an-2", "me")


@pytest.mark.parametrize(
    ("roles", "call"),
    [
        (("agent",), lambda b, p: ops.suspend_agent(b, p, "a-2", "x")),
        (("supervisor",), lambda b, p: ops.suspend_agent(b, p, "a-2", "x")),
        (("agent",), lambda b, p: ops.resume_agent(b, p, "a-3", "x")),
        (("supervisor",), lambda b, p: ops.resume_agent(b, p, "a-3", "x")),
    ],
)
def test_suspending_and_resuming_need_the_analyst_role(
    contained: Broker, roles: tuple[str, ...], call: Callable[[Broker, Principal], object]
) -> None:
    contained.suspend("a-3", "alert", actor="an-2")
    with pytest.raises(Forbidden, match="needs the analyst role"):
        call(contained, principal("sup-1", *roles))
    assert contained.containment.suspension_of("a-2") is None
    assert contained.containment.suspension_of("a-3") == "alert"


_PRIVILEGED: list[tuple[str, str, Callable[[Broker, Principal, str], object]]] = [
    ("approving a grant", "supervisor", ops.approve_grant),
    ("denying a grant", "supervisor", ops.deny_grant),
    ("suspending an agent", "analyst", lambda b, p, g: ops.suspend_agent(b, p, "a-2", "x")),
    ("resuming an agent", "analyst", lambda b, p, g: ops.resume_agent(b, p, "a-3", "x")),
]


@pytest.mark.parametrize(("what", "role", "call"), _PRIVILEGED)
def test_privileged_operations_need_a_second_factor_even_when_sign_in_does_not(
    store: Store,
    broker_settings: Settings,
    clock: Clock,
    what: str,
    role: str,
    call: Callable[[Broker, Principal, str], object],
) -> None:
    Recorder(store).record([*DIRECTORY, *ANALYSTS])
    lax = Broker(store, dataclasses.replace(broker_settings, broker_require_mfa=0), clock=clock)
    try:
        grant = _pending(lax)
        lax.suspend("a-3", "alert", actor="an-2")
        with pytest.raises(Unauthenticated, match=f"{what} needs a sign-in with a second factor"):
            call(lax, principal("an-1", role, mfa=None), grant)
        assert failed_signins(store, "an-1") == [
            f"{what} needs a sign-in with a second factor: sign in again with MFA"
        ]
        assert lax.grants.get(grant).status is GrantStatus.PENDING
        assert lax.containment.suspension_of("a-2") is None
        assert lax.containment.suspension_of("a-3") == "alert"
        call(lax, principal("an-1", role, mfa="webauthn"), grant)  # with one, it is done
    finally:
        lax.close()


# -- tokens issued before a suspension or a resume ---------------------------------------


def _issue(broker: Broker, agent: str, at: datetime, *roles: str) -> str:
    return LocalTokens(broker.settings).issue(
        agent, roles=frozenset(roles or ("agent",)), mfa="totp", now=at
    )


def test_tokens_issued_before_a_resume_are_refused_after_it_in_every_process(
    contained: Broker, store: Store, clock: Clock
) -> None:
    # Times in the past of the real clock: token times (iat) are checked against it.
    base = datetime.now(UTC).replace(microsecond=0)
    used = _issue(contained, "a-1", base - timedelta(seconds=10))
    contained.authenticate(used, ip="198.51.100.7")
    stolen = _issue(contained, "a-1", base - timedelta(seconds=10))  # never used yet
    clock.now = base - timedelta(seconds=8)
    contained.suspend("a-1", "token theft", actor="an-2")
    during = _issue(contained, "a-1", base - timedelta(seconds=6))
    assert contained.authenticate(during, ip="198.51.100.7").agent == "a-1"  # denied later
    clock.now = base - timedelta(seconds=5)
    assert contained.containment.resume("a-1", actor="an-2", reason="re-enrolled")
    for old in (used, stolen, during):
        with pytest.raises(Unauthenticated, match=r"revoked|issued before"):
            contained.authenticate(old, ip="198.51.100.7")
    reason = "this token was issued before the agent's last suspension or resume: sign in again"
    assert reason in failed_signins(store, "a-1")
    fresh = _issue(contained, "a-1", base)
    assert contained.authenticate(fresh, ip="198.51.100.7").agent == "a-1"
    other = Broker(store, contained.settings)  # another process: the instant is stored
    try:
        with pytest.raises(Unauthenticated, match="issued before"):
            other.authenticate(_issue(contained, "a-1", base - timedelta(seconds=9)), ip="::1")
        assert other.authenticate(fresh, ip="198.51.100.7").agent == "a-1"
    finally:
        other.close()


def test_a_suspension_while_a_session_opens_revokes_it(
    contained: Broker, store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = datetime.now(UTC).replace(microsecond=0)
    token = _issue(contained, "a-1", base - timedelta(seconds=10))
    sessions = contained.containment.sessions
    opening = sessions.open

    def open_late(session: str, agent: str, now: datetime) -> None:
        # The suspension and the resume land between the check and the opening.
        clock.now = base - timedelta(seconds=8)
        contained.suspend("a-1", "alert", actor="an-2")
        clock.now = base - timedelta(seconds=5)
        contained.containment.resume("a-1", actor="an-2")
        opening(session, agent, now)

    monkeypatch.setattr(sessions, "open", open_late)
    with pytest.raises(Unauthenticated, match="issued before"):
        contained.authenticate(token, ip="198.51.100.7")
    monkeypatch.undo()
    with pytest.raises(Unauthenticated, match="revoked"):
        contained.authenticate(token, ip="198.51.100.7")


# -- over HTTP ---------------------------------------------------------------------------


def _next_second() -> None:
    """Wait for the next whole second: token times (``iat``) count whole seconds, so a
    token minted after this is issued after whatever came before."""
    time.sleep(1.02 - datetime.now(UTC).microsecond / 1e6)


def test_over_http_a_suspended_analyst_cannot_resume_itself(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    Recorder(store).record(ANALYSTS)
    other = _token(api_settings, "an-2", "analyst")
    suspended = client.post("/v1/agents/an-1/suspend", json={"reason": "insider"}, headers=other)
    assert suspended.json()["outcome"] == "suspended"
    _next_second()
    spare = _token(api_settings, "an-1", "analyst")  # a fresh token, from the IdP say
    refused = client.post("/v1/agents/an-1/resume", json={"reason": "me"}, headers=spare)
    assert "an-1 is suspended" in _error(refused, 401)["message"]
    assert [a["action"] for a in audits(store) if a["subject"] == "an-1"] == ["agent.suspended"]
    itself = client.post("/v1/agents/an-2/resume", json={"reason": "me"}, headers=other)
    assert "own suspension" in _error(itself, 403)["message"]


def test_over_http_a_suspended_supervisor_cannot_approve(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    Recorder(store).record(ANALYSTS)
    analyst = _token(api_settings, "an-1", "analyst")
    ask = {"customer": "c-2", "classes": ["contact"], "duration_seconds": 600}
    grant = client.post(
        "/v1/grants",
        json=ask | {"reason": "agent_initiated_review"},
        headers=_token(api_settings, "a-1"),
    ).json()
    client.post("/v1/agents/sup-1/suspend", json={"reason": "compromised"}, headers=analyst)
    _next_second()
    supervisor = _token(api_settings, "sup-1", "supervisor")  # a fresh token
    refused = client.post(f"/v1/grants/{grant['id']}/approve", headers=supervisor)
    assert "sup-1 is suspended" in _error(refused, 401)["message"]
    for listing in (
        client.get("/v1/grants", headers=supervisor),
        client.get(f"/v1/grants/{grant['id']}", headers=supervisor),
    ):
        assert "sup-1 is suspended" in _error(listing, 401)["message"]
    assert client.get(f"/v1/grants/{grant['id']}", headers=analyst).json()["status"] == "pending"


def test_over_http_a_token_issued_before_the_resume_is_refused(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    Recorder(store).record(ANALYSTS)
    analyst = _token(api_settings, "an-1", "analyst")
    stolen = _token(api_settings, "a-1")
    justified = {"ticket": "T-api", "reason": SUPPORT}
    _next_second()
    client.post("/v1/agents/a-1/suspend", json={"reason": "token theft"}, headers=analyst)
    during = client.get("/v1/customers/c-1/contacts", params=justified, headers=stolen)
    assert "issued before" in _error(during, 401)["message"]
    client.post("/v1/agents/a-1/resume", json={"reason": "re-enrolled"}, headers=analyst)
    after = client.get("/v1/customers/c-1/contacts", params=justified, headers=stolen)
    assert "sign in again" in _error(after, 401)["message"]
    _next_second()
    fresh = _token(api_settings, "a-1")
    assert client.get("/v1/customers/c-1/contacts", params=justified, headers=fresh).is_success
