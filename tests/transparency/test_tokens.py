"""Customers' API tokens: issued once, stored as hashes, revocable."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from tests.transparency.sample import OTHER, OWN, filled
from vigile.store import Store
from vigile.store import tables as t
from vigile.transparency import InvalidToken, Transparency, UnknownCustomer, authenticate


def test_tokens_are_stored_hashed_and_authenticate_their_customer(store: Store) -> None:
    service = Transparency(filled(store))
    own, other = service.issue_token(OWN), service.issue_token(OTHER)
    assert own.token.startswith("vgct_")
    assert own.token != other.token
    assert authenticate(store.engine, own.token) == OWN
    assert authenticate(store.engine, other.token) == OTHER
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.customer_tokens)).mappings().all()
    stored = {str(value) for row in rows for value in row.values()}
    assert own.token not in stored
    assert hashlib.sha256(own.token.encode()).hexdigest() in stored
    assert own.token_id == hashlib.sha256(own.token.encode()).hexdigest()[:12]


def test_revoked_tokens_are_refused_and_others_stay_valid(store: Store) -> None:
    service = Transparency(filled(store))
    first, second = service.issue_token(OWN), service.issue_token(OWN)
    other = service.issue_token(OTHER)
    assert service.revoke_tokens(OWN) == 2
    assert service.revoke_tokens(OWN) == 0
    for revoked in (first, second):
        with pytest.raises(InvalidToken):
            authenticate(store.engine, revoked.token)
    for bad in (None, "", "vgct_unknown", "x" * 10_000):
        with pytest.raises(InvalidToken, match="a valid customer token is required"):
            authenticate(store.engine, bad)
    assert authenticate(store.engine, other.token) == OTHER
    with pytest.raises(UnknownCustomer):
        service.issue_token("c-nobody")
