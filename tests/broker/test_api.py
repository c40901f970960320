"""The broker's HTTP API end to end: tokens (local and OIDC), masked views, reveals,
grants and lockbox, containment, the ticket integration, one error shape, and an access
event recorded for every data request."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.broker.conftest import BOB_EMAIL, DIRECTORY, accesses, audits
from vigile.api import create_app
from vigile.broker import LocalTokens
from vigile.ledger.promise import open_promise
from vigile.ledger.service import Ledger
from vigile.model import TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store
from vigile.transparency import issue_token

with warnings.catch_warnings():
    # Starlette asks for httpx2; the project pins httpx, which works unchanged.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

INTEGRATION = "vgit_test-credential"
ISSUER = "https://login.example"
NOW = datetime.now(UTC)
SUPPORT = "customer_initiated_support"


def _steps(ticket: str, customer: str, agent: str) -> list[TicketEvent]:
    opened, assigned = NOW - timedelta(hours=1), NOW - timedelta(minutes=50)
    return [
        TicketEvent(
            id=f"{ticket}/o", time=opened, ticket=ticket, event=TicketStep.OPENED, customer=customer
        ),
        TicketEvent(
            id=f"{ticket}/a", time=assigned, ticket=ticket, event=TicketStep.ASSIGNED, agent=agent
        ),
    ]


@pytest.fixture
def oidc_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def api_settings(
    broker_settings: Settings, tmp_path: Path, oidc_key: rsa.RSAPrivateKey
) -> Settings:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(oidc_key.public_key()))
    (tmp_path / "jwks.json").write_text(
        json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]})
    )
    return dataclasses.replace(
        broker_settings,
        broker_oidc_issuer=ISSUER,
        broker_oidc_jwks=str(tmp_path / "jwks.json"),
        broker_integration_token=hashlib.sha256(INTEGRATION.encode()).hexdigest(),
    )


@pytest.fixture
def client(store: Store, api_settings: Settings) -> Iterator[TestClient]:
    Recorder(store).record([*DIRECTORY, *_steps("T-api", "c-1", "a-1")])
    app = create_app(api_settings, store=store)
    with TestClient(app) as test_client:
        yield test_client
    app.state.broker.close()


def _token(settings: Settings, agent: str, *roles: str, mfa: str | None = "totp") -> dict[str, str]:
    token = LocalTokens(settings).issue(
        agent, roles=frozenset(roles or ("agent",)), mfa=mfa, now=datetime.now(UTC)
    )
    return {"Authorization": f"Bearer {token}"}


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id"}
    assert response.headers["X-Request-ID"] == body["error"]["request_id"]
    return body["error"]


def test_an_agent_searches_views_masked_and_reveals_with_its_ticket(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    agent = _token(api_settings, "a-1")
    hits = client.get("/v1/customers", params={"q": "Example S"}, headers=agent)
    assert hits.json() == [{"id": "c-1", "name": "Example Shop"}]
    justified = {"ticket": "T-api", "reason": SUPPORT}
    contacts = client.get("/v1/customers/c-1/contacts", params=justified, headers=agent)
    assert contacts.status_code == 200
    assert contacts.json()[0]["email"] == "b***@shop.example"
    assert BOB_EMAIL not in contacts.text
    subscriptions = client.get("/v1/customers/c-1/subscriptions", params=justified, headers=agent)
    assert subscriptions.json()[0]["monthly_amount"] == "***"
    revealed = client.post(
        "/v1/customers/c-1/reveal",
        json={"object": "k-1", "field": "contact.email", **justified},
        headers=agent,
    )
    assert revealed.json()["value"] == BOB_EMAIL
    assert [a["action"] for a in accesses(store)] == [
        "customer.search",
        "contact.view",
        "subscription.view",
        "contact.reveal",
    ]


def test_denials_and_failures_share_the_one_error_shape_and_leak_nothing(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    assert _error(client.get("/v1/customers", params={"q": "shop"}), 401)["code"] == "unauthorized"
    agent = _token(api_settings, "a-1")
    denied = _error(
        client.post(
            "/v1/customers/c-1/reveal",
            json={"object": "k-1", "field": "contact.email", "reason": SUPPORT},
            headers=agent,
        ),
        403,
    )
    assert "ticket" in denied["message"]
    assert BOB_EMAIL not in denied["message"]
    assert "bob" not in denied["message"]
    assert _error(client.get("/v1/customers/c-404", headers=agent), 404)["code"] == "not_found"
    assert _error(client.get("/v1/customers", params={"q": "ex"}, headers=agent), 422)
    assert _error(client.get("/v1/customers/c-1", params={"reason": "because"}, headers=agent), 403)
    outcomes = [a["outcome"] for a in accesses(store)]
    assert outcomes == ["denied"] * 4
    weak = _token(api_settings, "a-1", mfa=None)
    assert (
        "second factor"
        in _error(client.get("/v1/customers", params={"q": "shop"}, headers=weak), 401)["message"]
    )


def test_grants_over_http(client: TestClient, api_settings: Settings, store: Store) -> None:
    agent, supervisor = _token(api_settings, "a-1"), _token(api_settings, "sup-1", "supervisor")
    asked = client.post(
        "/v1/grants",
        json={
            "customer": "c-1",
            "classes": ["account"],
            "duration_seconds": 600,
            "reason": "agent_initiated_review",
        },
        headers=agent,
    )
    assert asked.status_code == 201, asked.text
    grant = asked.json()
    reveal = {"object": "u-1", "field": "account.email", "reason": "agent_initiated_review"}
    _error(client.post("/v1/customers/c-1/reveal", json=reveal, headers=agent), 403)
    _error(client.post(f"/v1/grants/{grant['id']}/approve", headers=agent), 403)
    pending = client.get("/v1/grants", params={"status": "pending"}, headers=supervisor).json()
    assert [g["id"] for g in pending] == [grant["id"]]
    assert client.get("/v1/grants", headers=_token(api_settings, "a-2")).json() == []
    approved = client.post(f"/v1/grants/{grant['id']}/approve", headers=supervisor).json()
    assert approved["status"] == "approved"
    assert approved["starts"]
    assert (
        client.post("/v1/customers/c-1/reveal", json=reveal, headers=agent).json()["value"]
        == "admin@shop.example"
    )
    assert (
        client.post(f"/v1/grants/{grant['id']}/revoke", headers=agent).json()["status"] == "revoked"
    )
    _error(client.post("/v1/customers/c-1/reveal", json=reveal, headers=agent), 403)
    _error(client.post(f"/v1/grants/{grant['id']}/approve", headers=supervisor), 409)
    assert [a["action"] for a in audits(store) if a["subject"] == grant["id"]] == [
        "grant.requested",
        "grant.approved",
        "grant.revoked",
    ]


def test_lockbox_over_http(client: TestClient, api_settings: Settings, store: Store) -> None:
    Recorder(store).record(_steps("T-gov-api", "c-gov", "a-2"))
    agent = _token(api_settings, "a-2")
    asked = client.post(
        "/v1/grants",
        json={
            "customer": "c-gov",
            "classes": ["contact"],
            "duration_seconds": 600,
            "reason": SUPPORT,
            "ticket": "T-gov-api",
        },
        headers=agent,
    ).json()
    assert asked["lockbox"]
    _error(
        client.post(
            f"/v1/grants/{asked['id']}/approve", headers=_token(api_settings, "sup-1", "supervisor")
        ),
        403,
    )
    other = issue_token(store.engine, "c-1").token
    _error(
        client.post(
            f"/v1/lockbox/grants/{asked['id']}/approve",
            headers={"Authorization": f"Bearer {other}"},
        ),
        404,
    )
    mine = issue_token(store.engine, "c-gov").token
    listed = client.get("/v1/lockbox/grants", headers={"Authorization": f"Bearer {mine}"}).json()
    assert [g["id"] for g in listed] == [asked["id"]]
    assert (
        client.get("/v1/lockbox/grants", headers={"Authorization": f"Bearer {other}"}).json() == []
    )
    approved = client.post(
        f"/v1/lockbox/grants/{asked['id']}/approve", headers={"Authorization": f"Bearer {mine}"}
    ).json()
    assert approved["customer_approved"]
    contacts = client.get(
        "/v1/customers/c-gov/contacts",
        params={"ticket": "T-gov-api", "reason": SUPPORT},
        headers=agent,
    )
    assert contacts.status_code == 200


def test_an_analyst_suspends_and_the_agents_sessions_end(
    client: TestClient, api_settings: Settings
) -> None:
    agent, analyst = _token(api_settings, "a-1"), _token(api_settings, "sup-1", "analyst")
    assert client.get("/v1/customers", params={"q": "shop"}, headers=agent).status_code == 200
    _error(client.post("/v1/agents/a-1/suspend", json={"reason": "x"}, headers=agent), 403)
    assert (
        client.post("/v1/agents/a-1/suspend", json={"reason": "alert 9"}, headers=analyst).json()[
            "outcome"
        ]
        == "suspended"
    )
    assert (
        "revoked"
        in _error(client.get("/v1/customers", params={"q": "shop"}, headers=agent), 401)["message"]
    )
    fresh = _token(api_settings, "a-1")
    assert (
        "suspended"
        in _error(client.get("/v1/customers", params={"q": "shop"}, headers=fresh), 403)["message"]
    )
    assert (
        client.post("/v1/agents/a-1/resume", json={"reason": "cleared"}, headers=analyst).json()[
            "outcome"
        ]
        == "resumed"
    )
    # A token issued before the resume (here, during the suspension) stays refused.
    _error(client.get("/v1/customers", params={"q": "shop"}, headers=fresh), 401)
    time.sleep(1.02 - datetime.now(UTC).microsecond / 1e6)  # iat counts whole seconds
    after = _token(api_settings, "a-1")
    assert client.get("/v1/customers", params={"q": "shop"}, headers=after).status_code == 200


def test_the_ticketing_system_sends_ticket_steps(
    client: TestClient, api_settings: Settings
) -> None:
    steps = [
        {
            "kind": "ticket",
            "time": (NOW - timedelta(minutes=9)).isoformat(),
            "ticket": "T-new",
            "event": "opened",
            "customer": "c-2",
        },
        {
            "kind": "ticket",
            "time": (NOW - timedelta(minutes=8)).isoformat(),
            "ticket": "T-new",
            "event": "assigned",
            "agent": "a-3",
        },
    ]
    integration = {"Authorization": f"Bearer {INTEGRATION}"}
    _error(client.post("/v1/integrations/tickets", json=steps), 401)
    _error(
        client.post("/v1/integrations/tickets", json=steps, headers=_token(api_settings, "a-3")),
        401,
    )
    _error(
        client.post(
            "/v1/integrations/tickets",
            json=[{"kind": "customer", "id": "c-9"}],
            headers=integration,
        ),
        422,
    )
    agent = _token(api_settings, "a-3")
    _error(
        client.get(
            "/v1/customers/c-2", params={"ticket": "T-new", "reason": SUPPORT}, headers=agent
        ),
        403,
    )
    assert client.post("/v1/integrations/tickets", json=steps, headers=integration).json() == {
        "accepted": 2,
        "duplicates": [],
    }
    assert (
        client.get(
            "/v1/customers/c-2", params={"ticket": "T-new", "reason": SUPPORT}, headers=agent
        ).status_code
        == 200
    )


def test_oidc_tokens_are_verified_against_the_jwks_file(
    client: TestClient, oidc_key: rsa.RSAPrivateKey
) -> None:
    def token(**claims: Any) -> dict[str, str]:
        base = {
            "iss": ISSUER,
            "aud": "vigile-broker",
            "sub": "a-1",
            "sid": "oidc-1",
            "amr": ["pwd", "hwk"],
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 600,
        }
        signed = jwt.encode(base | claims, oidc_key, algorithm="RS256", headers={"kid": "k1"})
        return {"Authorization": f"Bearer {signed}"}

    assert client.get("/v1/customers", params={"q": "shop"}, headers=token()).status_code == 200
    _error(client.get("/v1/customers", params={"q": "shop"}, headers=token(aud="other")), 401)
    _error(
        client.get("/v1/customers", params={"q": "shop"}, headers=token(sid="oidc-2", amr=["pwd"])),
        401,
    )
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = jwt.encode(
        {"iss": ISSUER, "aud": "vigile-broker", "sub": "a-1", "exp": int(NOW.timestamp()) + 60},
        forged,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    _error(
        client.get(
            "/v1/customers", params={"q": "shop"}, headers={"Authorization": f"Bearer {bad}"}
        ),
        401,
    )


def test_parallel_http_requests_lose_no_access(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    agent = _token(api_settings, "a-1")

    def one(index: int) -> int:
        params = {"ticket": "T-api", "reason": SUPPORT} if index % 2 else {}
        return client.get("/v1/customers/c-1/contacts", params=params, headers=agent).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(80)))
    assert sorted(set(statuses)) == [200, 403]
    assert len(accesses(store)) == 80
    assert store.counts()["signins"] == 1  # one new session, however many first requests


def test_openapi_is_served_with_the_broker_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/customers",
        "/v1/customers/{customer_id}/reveal",
        "/v1/grants",
        "/v1/integrations/tickets",
    } <= set(paths)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("ticket=T-api&reason=customer_initiated_support", 200),  # served without solving
        ("ticket=T-api&reason=customer_initiated_support&page=2", 200),  # FastAPI's handler
        ("ticket=T-api&ticket=T-api&reason=customer_initiated_support", 200),
        ("reason=customer_initiated_support", 403),
        (f"ticket={'T' * 201}&reason=customer_initiated_support", 422),
        ("ticket=T-api&reason=" + "x" * 65, 422),
    ],
)
def test_plain_and_other_reads_answer_alike(
    client: TestClient, api_settings: Settings, query: str, status: int
) -> None:
    headers = _token(api_settings, "a-1")
    for path in ("/v1/customers/c-1", "/v1/customers/c-1/contacts"):
        response = client.get(f"{path}?{query}", headers=headers)
        if status == 200:
            assert response.status_code == 200, response.text
            assert BOB_EMAIL not in response.text
            assert response.headers["content-type"] == "application/json"
            assert response.headers["Cache-Control"] == "no-store"
        else:
            _error(response, status)
    _error(client.get("/v1/customers/c-1?reason=none"), 401)
    basic = {"Authorization": "Basic YTpi"}
    _error(client.get("/v1/customers/c-1/contacts?reason=none", headers=basic), 401)


@pytest.mark.parametrize(
    ("method", "path", "where", "extra"),
    [
        ("get", "/v1/customers", "query", {"params": {"q": "Sho\x00p"}}),
        ("get", "/v1/customers/c-1", "query", {"params": {"ticket": "T-\x00", "reason": SUPPORT}}),
        ("get", "/v1/customers/c-%00", "path", {}),
        ("post", "/v1/agents/a-2/suspend", "body", {"json": {"reason": "x\x00"}}),
    ],
)
def test_a_nul_character_is_refused_before_anything_is_read(
    client: TestClient,
    api_settings: Settings,
    store: Store,
    method: str,
    path: str,
    where: str,
    extra: dict[str, Any],
) -> None:
    # PostgreSQL text holds no NUL: such a request used to fail with 503 when its access
    # was recorded (and fail the others sharing its commit). A request for customer data
    # is still recorded, as a denied access, the NUL replaced.
    analyst = _token(api_settings, "an-1", "analyst")
    before = accesses(store)
    refused = getattr(client, method)(path, headers=analyst, **extra)
    message = _error(refused, 422)["message"]
    assert message == f"{where}: a NUL character is not allowed"
    recorded = accesses(store)[len(before) :]
    if path.startswith("/v1/customers"):
        [access] = recorded
        assert (access["agent"], access["outcome"]) == ("an-1", "denied")
        assert access["deny_reason"] == f"invalid request: {message}"
        assert not any("\x00" in str(value) for value in access.values())
    else:
        assert recorded == []
    agent = _token(api_settings, "a-1")
    assert client.get("/v1/customers", params={"q": "Example S"}, headers=agent).is_success


@pytest.mark.parametrize(
    ("method", "path", "extra", "action"),
    [
        (
            "post",
            "/v1/customers/c-1/reveal",
            {"json": {"object": "k-1", "field": "contact.password", "reason": SUPPORT}},
            "contact.reveal",
        ),
        (
            "post",
            "/v1/customers/c-1/reveal",
            {"json": {"object": "k-1", "field": "contact.email", "reason": "curiosity"}},
            "contact.reveal",
        ),
        (
            "get",
            "/v1/customers/c-1/contacts",
            {"params": {"ticket": "T" * 201, "reason": SUPPORT}},
            "contact.view",
        ),
        ("get", "/v1/customers", {"params": {"q": "x" * 101}}, "customer.search"),
    ],
)
def test_a_request_for_data_that_does_not_validate_is_recorded_as_denied(
    client: TestClient,
    api_settings: Settings,
    store: Store,
    method: str,
    path: str,
    extra: dict[str, Any],
    action: str,
) -> None:
    agent = _token(api_settings, "a-1")
    refused = getattr(client, method)(path, headers=agent, **extra)
    message = _error(refused, 422)["message"]
    [recorded] = [row for row in accesses(store) if row["action"] == action]
    assert (recorded["agent"], recorded["outcome"]) == ("a-1", "denied")
    assert recorded["deny_reason"] == f"invalid request: {message}"
    assert recorded["customer"] == ("c-1" if "c-1" in path else None)
    assert all(len(recorded[key] or "") <= 200 for key in ("ticket", "customer"))


def test_an_invalid_request_without_a_valid_token_records_nothing(
    client: TestClient, store: Store
) -> None:
    before = len(accesses(store))
    refused = client.post(
        "/v1/customers/c-1/reveal",
        json={"object": "k-1", "field": "nope", "reason": SUPPORT},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert refused.status_code in (401, 422)
    assert len(accesses(store)) == before


@pytest.mark.parametrize(
    ("path", "body", "action"),
    [
        (
            "/v1/customers/0/reveal",
            {"\x00": None, "field": "account.email", "object": "", "reason": "none"},
            "contact.reveal",
        ),
        ("/v1/customers/0/export", {"reason": "none", "ticket": "\x00"}, "export"),
    ],
)
def test_a_nul_refused_request_for_data_is_an_access_when_its_token_names_an_agent(
    client: TestClient,
    api_settings: Settings,
    store: Store,
    path: str,
    body: dict[str, Any],
    action: str,
) -> None:
    # Requests schemathesis sent (issue #4), once without the Authorization header its
    # negative case had dropped: that one names nobody, so it is no access, as an invalid
    # request without a valid token is none; with the agent's token it is one.
    before = len(accesses(store))
    message = _error(client.post(path, json=body), 422)["message"]
    assert message == "body: a NUL character is not allowed"
    assert len(accesses(store)) == before
    _error(client.post(path, json=body, headers=_token(api_settings, "a-1")), 422)
    [access] = accesses(store)[before:]
    assert (access["agent"], access["action"], access["outcome"]) == ("a-1", action, "denied")
    assert (access["customer"], access["deny_reason"]) == ("0", f"invalid request: {message}")


def test_an_answer_carries_its_event_and_a_promise_honoured_by_a_proof(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    """The promise checks against the public key alone; once integrated, the inclusion
    proof of the event has the promised index and leaf hash; /health tells the lag."""
    agent = _token(api_settings, "a-1")
    justified = {"ticket": "T-api", "reason": SUPPORT}
    answer = client.get("/v1/customers/c-1/contacts", params=justified, headers=agent)
    assert answer.status_code == 200
    event = answer.headers["Vigile-Event"]
    note = base64.b64decode(answer.headers["Vigile-Inclusion-Promise"]).decode()
    ledger = Ledger(store.engine, api_settings)
    promise = open_promise(note, ledger.verifier(), origin=api_settings.ledger_origin)
    bundle = ledger.prove(event)  # integrates what is stored first
    assert bundle["leaf_index"] == promise.index
    assert base64.b64decode(str(bundle["leaf_hash"])) == promise.leaf_hash
    health = client.get("/health").json()
    assert health["ledger"]["pending"] == 0
    assert health["ledger"]["max_delay_seconds"] == api_settings.integration_delay
    assert health["ledger"]["lagging"] is False
