"""Customers' bearer tokens for the transparency API.

A token is 32 random bytes (``secrets``), shown once when issued. Only its SHA-256 is
stored, as the key of ``customer_tokens``: a leaked table grants nothing, and finding a
token is a lookup of its hash, which leaks nothing through timing (an attacker cannot
steer the hash of a guess towards a stored one). The ``vgct_`` prefix lets secret
scanners recognise a leaked token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from vigile.model.times import to_micros
from vigile.store import tables as t
from vigile.store.engine import connect, translate_errors
from vigile.transparency.errors import InvalidToken

__all__ = [
    "TOKEN_PREFIX",
    "IssuedToken",
    "authenticate",
    "issue_token",
    "revoke_tokens",
    "token_hash",
]

TOKEN_PREFIX = "vgct_"  # noqa: S105 (a prefix, not a secret)
_MAX_TOKEN_LENGTH = 128  # far above a real token; longer input is refused unhashed


@dataclass(frozen=True, kw_only=True, slots=True)
class IssuedToken:
    """A token just issued: the only moment ``token`` itself exists."""

    customer: str
    token: str
    token_id: str  # the first characters of its hash: names it in listings and logs
    created: datetime


def token_hash(token: str) -> str:
    """The hex SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(engine: Engine, customer_id: str, *, now: datetime | None = None) -> IssuedToken:
    """Issue a new token for ``customer_id`` (the caller checks the customer exists)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = token_hash(token)
    created = now or datetime.now(UTC)
    row = {"token_hash": digest, "customer": customer_id, "created_us": to_micros(created)}
    with translate_errors(engine.url), engine.begin() as conn:
        conn.execute(t.customer_tokens.insert().values(**row))
    return IssuedToken(customer=customer_id, token=token, token_id=digest[:12], created=created)


def authenticate(engine: Engine, token: str | None) -> str:
    """The customer of a valid token; :class:`InvalidToken` for a missing, unknown or
    revoked one (one message for all, so none can be told apart)."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidToken("a valid customer token is required")
    table = t.customer_tokens
    query = select(table.c.customer).where(
        table.c.token_hash == token_hash(token), table.c.revoked_us.is_(None)
    )
    with connect(engine) as conn:
        customer = conn.execute(query).scalar()
    if customer is None:
        raise InvalidToken("a valid customer token is required")
    return str(customer)


def revoke_tokens(engine: Engine, customer_id: str, *, now: datetime | None = None) -> int:
    """Revoke every valid token of ``customer_id``; returns how many were revoked."""
    table = t.customer_tokens
    revoked_us = to_micros(now or datetime.now(UTC))
    update = (
        table.update()
        .where(table.c.customer == customer_id, table.c.revoked_us.is_(None))
        .values(revoked_us=revoked_us)
    )
    with translate_errors(engine.url), engine.begin() as conn:
        return conn.execute(update).rowcount
