"""Tokens the broker must refuse with a clear 401 (never a 500): OIDC tokens without
the claims a session is named from, or with a malformed ``amr``; and local tokens signed
with a key that has since been replaced, even when they were verified before."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.broker import test_api
from tests.broker.test_api import ISSUER, TestClient, _error, _token
from vigile.broker import Broker, LocalTokens, Unauthenticated
from vigile.settings import Settings

# The HTTP API's fixtures (an app over the store, local and OIDC tokens).
oidc_key, api_settings, client = test_api.oidc_key, test_api.api_settings, test_api.client
SEARCH = {"q": "Example"}


def _oidc(key: rsa.RSAPrivateKey, **claims: Any) -> dict[str, str]:
    base = {
        "iss": ISSUER,
        "aud": "vigile-broker",
        "sub": "a-1",
        "exp": int(time.time()) + 600,
        "amr": ["pwd", "otp"],
    }
    given = {k: v for k, v in (base | claims).items() if v is not None}
    token = jwt.encode(given, key, algorithm="RS256", headers={"kid": "k1"})
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({}, '"iat"'),  # no sid, no jti, no iat: nothing names the session
        ({"sid": "idp-1"}, '"iat"'),  # a session, but no issue time to weigh it by
        ({"iat": 1, "amr": 5}, "amr must be a list of strings"),
        ({"iat": 1, "amr": "otp"}, "amr must be a list of strings"),
        ({"iat": 1, "amr": ["otp", 5]}, "amr must be a list of strings"),
        ({"iat": 1, "sid": 7}, "sid must be a non-empty string"),
        ({"iat": "yesterday"}, "iat"),
    ],
)
def test_malformed_oidc_claims_are_refused_naming_the_claim(
    client: TestClient, oidc_key: rsa.RSAPrivateKey, claims: dict[str, Any], named: str
) -> None:
    refused = client.get("/v1/customers", params=SEARCH, headers=_oidc(oidc_key, **claims))
    assert named in _error(refused, 401)["message"]


@pytest.mark.parametrize(
    "claims",
    [
        {"iat": int(time.time()) - 5},  # the session is named after sub and iat
        {"iat": int(time.time()) - 5, "jti": "t-1"},
        {"iat": int(time.time()) - 5, "sid": "idp-1", "amr": ["hwk"]},
    ],
)
def test_an_oidc_token_with_an_issue_time_needs_no_sid(
    client: TestClient, oidc_key: rsa.RSAPrivateKey, claims: dict[str, Any]
) -> None:
    found = client.get("/v1/customers", params=SEARCH, headers=_oidc(oidc_key, **claims))
    assert {"id": "c-1", "name": "Example Shop"} in found.json()


def _replace_key(settings: Settings) -> None:
    Path(settings.broker_token_key).unlink()
    LocalTokens(settings).issue("a-9", roles=frozenset({"agent"}), mfa="totp", now=_now())


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_replaced_local_key_refuses_tokens_verified_with_the_old_one(broker: Broker) -> None:
    token = LocalTokens(broker.settings).issue(
        "a-1", roles=frozenset({"agent"}), mfa="totp", now=_now()
    )
    assert broker.authenticate(token, ip="198.51.100.7").agent == "a-1"
    assert broker.authenticate(token, ip="198.51.100.7").agent == "a-1"  # remembered
    _replace_key(broker.settings)
    with pytest.raises(Unauthenticated, match="Signature verification failed"):
        broker.authenticate(token, ip="198.51.100.7")
    Path(broker.settings.broker_token_key).unlink()  # no key at all: nothing verifies
    with pytest.raises(Unauthenticated, match="no local tokens"):
        broker.authenticate(token, ip="198.51.100.7")


def test_over_http_a_replaced_local_key_refuses_the_old_tokens(
    client: TestClient, api_settings: Settings
) -> None:
    old = _token(api_settings, "a-1")
    assert client.get("/v1/customers", params=SEARCH, headers=old).is_success
    _replace_key(api_settings)
    assert (
        "Signature"
        in _error(client.get("/v1/customers", params=SEARCH, headers=old), 401)["message"]
    )
    assert client.get(
        "/v1/customers", params=SEARCH, headers=_token(api_settings, "a-1")
    ).is_success
