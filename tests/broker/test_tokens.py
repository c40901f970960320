"""Verified tokens are remembered, never past their expiry or their revocation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from vigile.broker import Broker, LocalTokens, Unauthenticated


def test_a_remembered_token_still_expires(broker: Broker) -> None:
    tokens = LocalTokens(broker.settings)
    now = datetime.now(UTC)
    lasting = timedelta(hours=tokens.hours) - timedelta(seconds=2)
    token = tokens.issue("a-1", roles=frozenset({"agent"}), mfa="totp", now=now - lasting)
    assert broker.authenticate(token, ip="198.51.100.7").agent == "a-1"
    assert broker.authenticate(token, ip="198.51.100.7").agent == "a-1"  # remembered
    time.sleep(max(0.0, (now + timedelta(seconds=2.2) - datetime.now(UTC)).total_seconds()))
    with pytest.raises(Unauthenticated, match="expired"):
        broker.authenticate(token, ip="198.51.100.7")


def test_a_remembered_token_is_refused_once_its_session_is_revoked(broker: Broker) -> None:
    tokens = LocalTokens(broker.settings)
    token = tokens.issue("a-1", roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC))
    broker.authenticate(token, ip="198.51.100.7")
    broker.suspend("a-1", "alert 3", actor="an-1")
    with pytest.raises(Unauthenticated, match="revoked"):
        broker.authenticate(token, ip="198.51.100.7")


def test_a_forged_token_is_refused_even_beside_a_remembered_one(broker: Broker) -> None:
    tokens = LocalTokens(broker.settings)
    token = tokens.issue("a-1", roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC))
    broker.authenticate(token, ip="198.51.100.7")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(Unauthenticated):
        broker.authenticate(forged, ip="198.51.100.7")
