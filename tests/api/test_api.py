"""The HTTP API end to end with FastAPI's TestClient, on SQLite and PostgreSQL: customer
tokens, isolation between customers, proofs verified offline against the public
checkpoint, formats, and the one error shape."""

from __future__ import annotations

import base64
import csv
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from fastapi import FastAPI, HTTPException
from httpx import Response

from tests.transparency.sample import (
    ENGINES,
    EVENTS,
    OTHER,
    OWN,
    assert_no_agent_name,
    sample_store,
    verifier_of,
)
from vigile.api import create_app
from vigile.errors import StoreError
from vigile.ledger.verify_proofs import verify_consistency_bundle, verify_inclusion_bundle
from vigile.store import Store
from vigile.transparency import CSV_HEADER, Transparency

with warnings.catch_warnings():
    # Starlette asks for httpx2; the project pins httpx, which works unchanged.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient


@dataclass(frozen=True, kw_only=True)
class Api:
    client: TestClient
    store: Store
    own: dict[str, str]  # Authorization headers
    other: dict[str, str]
    revoked: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=ENGINES)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with sample_store(request.param, tmp_path_factory.mktemp("api")) as store:
        service = Transparency(store)
        revoked = service.issue_token(OTHER)
        service.revoke_tokens(OTHER)
        own, other = service.issue_token(OWN), service.issue_token(OTHER)
        app = create_app(store.settings, store=store)
        _add_failing_routes(app)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Api(
                client=client,
                store=store,
                own=bearer(own.token),
                other=bearer(other.token),
                revoked=bearer(revoked.token),
            )


def _add_failing_routes(app: FastAPI) -> None:
    """Routes that fail on purpose, to see every kind of failure in the error shape."""

    @app.get("/test/forbidden")
    def forbidden() -> None:
        raise HTTPException(403, "not for you")

    @app.get("/test/bug")
    def bug() -> None:
        raise RuntimeError("secret internals")

    @app.get("/test/store-down")
    def store_down() -> None:
        raise StoreError("postgresql://admin@db/vigile: cannot connect")


def assert_error(response: Response, status: int, code: str) -> dict[str, str]:
    """The one error shape, its request id also in the header; returns the error."""
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, str] = body["error"]
    assert set(error) == {"code", "message", "request_id"}
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    return error


def ids(response: Response) -> list[str]:
    return [access["event_id"] for access in response.json()["accesses"]]


# -- authentication --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l"},
        {"Authorization": "Bearer vgct_not-a-token"},
        "revoked",
    ],
    ids=["missing", "empty", "basic", "unknown", "revoked"],
)
def test_no_valid_token_is_401(api: Api, headers: dict[str, str] | str) -> None:
    sent = api.revoked if isinstance(headers, str) else headers
    for path in ("/v1/transparency/accesses", "/v1/transparency/accesses/e-2/proof"):
        response = api.client.get(path, headers=sent)
        error = assert_error(response, 401, "unauthorized")
        assert error["message"] == "a valid customer token is required"
        assert response.headers["www-authenticate"].startswith("Bearer")


# -- isolation -------------------------------------------------------------------------


def test_each_customer_sees_only_its_own_accesses(api: Api) -> None:
    own = api.client.get("/v1/transparency/accesses", headers=api.own)
    other = api.client.get("/v1/transparency/accesses", headers=api.other)
    assert (ids(own), ids(other)) == (EVENTS[OWN], EVENTS[OTHER])
    assert own.json()["customer"] == OWN
    # No parameter can name another customer: unknown ones are ignored.
    sneaky = api.client.get(
        "/v1/transparency/accesses", params={"customer": OTHER}, headers=api.own
    )
    assert ids(sneaky) == EVENTS[OWN]
    assert OTHER not in sneaky.text


def test_another_customers_access_is_not_found_like_a_missing_one(api: Api) -> None:
    theirs = api.client.get("/v1/transparency/accesses/e-12/proof", headers=api.own)
    missing = api.client.get("/v1/transparency/accesses/e-404/proof", headers=api.own)
    assert assert_error(theirs, 404, "not_found")["message"] == (
        "no access 'e-12' concerns this customer"
    )
    assert assert_error(missing, 404, "not_found")["message"] == (
        "no access 'e-404' concerns this customer"
    )
    # A search that listed both customers concerns both.
    for headers in (api.own, api.other):
        shared = api.client.get("/v1/transparency/accesses/e-3/proof", headers=headers)
        assert shared.json()["access"]["fields"] == ["customer.name"]


def test_no_response_names_an_agent(api: Api) -> None:
    for query in ("", "?format=csv", "?format=ocsf"):
        response = api.client.get(f"/v1/transparency/accesses{query}", headers=api.own)
        assert_no_agent_name(response.text)
    assert_no_agent_name(
        api.client.get("/v1/transparency/accesses/e-13/proof", headers=api.own).text
    )


# -- proofs ----------------------------------------------------------------------------


def test_every_listed_proof_verifies_offline_against_the_public_checkpoint(api: Api) -> None:
    listing = api.client.get("/v1/transparency/accesses", headers=api.own).json()
    checkpoint = api.client.get("/v1/ledger/checkpoint")
    assert checkpoint.headers["content-type"].startswith("text/plain")
    assert checkpoint.text == listing["checkpoint"]
    verifier = verifier_of(api.store)
    for access in listing["accesses"]:
        assert access["proof"]["status"] == "included"
        verified = verify_inclusion_bundle(
            verifier=verifier, checkpoint_note=checkpoint.text, bundle=access["proof"]["bundle"]
        )
        assert verified.leaf_index == access["proof"]["leaf_index"]
        leaf = access["proof"]["bundle"]["leaf"]
        assert access["proof"]["leaf_disclosed"] is (leaf is not None)


def test_one_proof_verifies_and_its_leaf_is_the_access(api: Api) -> None:
    body = api.client.get("/v1/transparency/accesses/e-2/proof", headers=api.own).json()
    bundle = body["access"]["proof"]["bundle"]
    verify_inclusion_bundle(
        verifier=verifier_of(api.store), checkpoint_note=body["checkpoint"], bundle=bundle
    )
    leaf = orjson.loads(base64.b64decode(bundle["leaf"]))
    assert (leaf["id"], leaf["customer"], leaf["action"]) == ("e-2", OWN, "contact.view")


def test_consistency_proof_is_public_and_verifies(api: Api) -> None:
    checkpoint = api.client.get("/v1/ledger/checkpoint").text
    size = int(checkpoint.split("\n")[1])
    body = api.client.get("/v1/ledger/consistency", params={"from": 3}).json()
    assert (body["checkpoint"], body["bundle"]["size2"]) == (checkpoint, size)
    verify_consistency_bundle(
        verifier=verifier_of(api.store), checkpoint_note=checkpoint, bundle=body["bundle"]
    )
    for wrong in (0, size + 1, "three"):
        response = api.client.get("/v1/ledger/consistency", params={"from": wrong})
        assert_error(response, 422, "invalid_request")
    assert_error(api.client.get("/v1/ledger/consistency"), 422, "invalid_request")


# -- formats ---------------------------------------------------------------------------


def test_csv_and_ocsf_formats(api: Api) -> None:
    url = "/v1/transparency/accesses"
    as_csv = api.client.get(url, params={"format": "csv"}, headers=api.own)
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.text, newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    assert [row[1] for row in rows[1:]] == EVENTS[OWN]
    ocsf = api.client.get(url, params={"format": "ocsf"}, headers=api.own).json()
    assert [event["metadata"]["uid"] for event in ocsf] == EVENTS[OWN]
    assert {event["class_uid"] for event in ocsf} == {6003}
    bad = api.client.get(url, params={"format": "xml"}, headers=api.own)
    assert "format" in assert_error(bad, 422, "invalid_request")["message"]


def test_window(api: Api) -> None:
    url = "/v1/transparency/accesses"
    window = {"since": "2021-05-20T09:31:05Z", "until": "2021-05-20T11:40:00+02:00"}
    assert ids(api.client.get(url, params=window, headers=api.own)) == ["e-2", "e-4"]
    reversed_window = {"since": window["until"], "until": "2021-05-20T00:00:00Z"}
    response = api.client.get(url, params=reversed_window, headers=api.own)
    assert "is after until" in assert_error(response, 422, "invalid_request")["message"]
    response = api.client.get(url, params={"since": "last week"}, headers=api.own)
    assert assert_error(response, 422, "invalid_request")["message"].startswith("since:")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("since", "0001-01-01T00:00:00+14:00"),  # in year 0 once in UTC
        ("until", "9999-12-31T23:59:59-23:59"),  # in year 10000 once in UTC
    ],
)
def test_a_time_beyond_the_calendar_is_422_naming_it(api: Api, name: str, value: str) -> None:
    response = api.client.get("/v1/transparency/accesses", params={name: value}, headers=api.own)
    message = assert_error(response, 422, "invalid_request")["message"]  # was a 500
    assert message.startswith(f"{name}: ")
    assert "out of range once converted to UTC" in message


def test_the_calendars_edges_are_times_like_any_other(api: Api) -> None:
    edges = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59.999999Z"}
    response = api.client.get("/v1/transparency/accesses", params=edges, headers=api.own)
    assert ids(response) == EVENTS[OWN]


@pytest.mark.parametrize("size", ["99999999999999999999", str(2**63), str(2**63 - 1), "12"])
def test_a_tree_size_out_of_range_is_422_naming_it(api: Api, size: str) -> None:
    response = api.client.get("/v1/ledger/consistency", params={"from": size})
    message = assert_error(response, 422, "invalid_request")["message"]
    assert message.split(":")[0].split(".")[-1] == "from"  # "query.from: ..." or "from: ..."


# -- the one error shape ---------------------------------------------------------------


def test_every_failure_has_the_one_error_shape(api: Api) -> None:
    assert_error(api.client.get("/nowhere"), 404, "not_found")
    assert_error(api.client.post("/health"), 405, "method_not_allowed")
    assert_error(api.client.get("/test/forbidden"), 403, "forbidden")
    down = assert_error(api.client.get("/test/store-down"), 503, "unavailable")
    assert "admin" not in down["message"]
    bug = assert_error(api.client.get("/test/bug"), 500, "internal_error")
    assert "secret" not in bug["message"]
    assert bug["request_id"] in bug["message"]


def test_request_ids_are_kept_when_safe(api: Api) -> None:
    kept = api.client.get("/nowhere", headers={"X-Request-ID": "trace-42"})
    assert assert_error(kept, 404, "not_found")["request_id"] == "trace-42"
    replaced = api.client.get("/nowhere", headers={"X-Request-ID": "evil\tline"})
    assert assert_error(replaced, 404, "not_found")["request_id"] != "evil\tline"
    assert api.client.get("/health").headers["x-request-id"]


def test_health_and_openapi(api: Api) -> None:
    health = api.client.get("/health")
    assert (health.status_code, health.json()["status"]) == (200, "ok")
    assert health.headers["cache-control"] == "no-store"
    schema = api.client.get("/openapi.json").json()
    assert set(schema["paths"]) >= {
        "/health",
        "/v1/ledger/checkpoint",
        "/v1/ledger/consistency",
        "/v1/transparency/accesses",
        "/v1/transparency/accesses/{event_id}/proof",
    }
    assert schema["components"]["securitySchemes"]["customerToken"]["scheme"] == "bearer"
    assert "ErrorOut" in schema["components"]["schemas"]
