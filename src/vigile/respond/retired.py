"""Retired usernames: after a rename, the old name can neither sign in nor be registered.

Matching is by keys that fold case and Unicode confusables, so ``PayPal``, ``PAYPAL``,
``paypaI`` (capital i) and ``p\u0430ypal`` (Cyrillic a) all meet ``paypal``. A key is the
name in NFKC, mapped through the confusables data of the Unicode Consortium (as shipped by
``confusable_homoglyphs``): characters that Unicode lists as confusable with one another
are joined into classes, each class written as its smallest member, and casefolded (see
:func:`username_keys`).

:func:`check_signin` is what a customer's identity provider or application calls before
letting a username in (also ``POST /v1/signin-check``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]
from sqlalchemy import select

from vigile.errors import InputError
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["SigninDecision", "check_registration", "check_signin", "username_keys"]

_MAX_LENGTH = 256


@cache
def _classes() -> dict[str, str]:
    """Each confusable character -> the smallest member of its class (union-find)."""
    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while parent.get(char, char) != char:
            char = parent[char]
        return char

    data: dict[str, list[dict[str, Any]]] = confusables.confusables_data
    for char, homoglyphs in data.items():
        for homoglyph in homoglyphs:
            other = homoglyph["c"]
            if len(other) == 1:  # sequences (``rn`` for ``m``) are not single-character classes
                a, b = root(char), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {char: root(char) for char in parent}


def _skeleton(text: str) -> str:
    classes = _classes()
    return "".join(classes.get(char, char) for char in text)


def username_keys(username: str) -> frozenset[str]:
    """The keys under which a username is retired and looked up: two names match when
    they share a key. Two, because case and confusables do not commute: ``I`` looks like
    ``l`` but folds to ``i``; ``O`` looks like ``0`` but folds to ``o``."""
    normal = unicodedata.normalize("NFKC", username).strip()
    return frozenset({_skeleton(_skeleton(normal).casefold()), _skeleton(normal.casefold())})


@dataclass(frozen=True, kw_only=True, slots=True)
class SigninDecision:
    """Allowed, or refused with a reason (and the retired name it resembles)."""

    username: str
    allowed: bool
    reason: str
    retired: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "allowed": self.allowed,
            "reason": self.reason,
            "retired": self.retired,
        }


def _decide(store: Store, username: str, verb: str) -> SigninDecision:
    if not username.strip() or len(username) > _MAX_LENGTH:
        raise InputError(f"a username of 1 to {_MAX_LENGTH} characters is needed")
    r = t.retired_usernames
    query = select(r.c.username).where(r.c.key.in_(sorted(username_keys(username)))).limit(1)
    with connect(store.engine) as conn:
        retired = conn.execute(query).scalar_one_or_none()
    if retired is None:
        return SigninDecision(username=username, allowed=True, reason="not retired")
    same = unicodedata.normalize("NFKC", username).casefold() == retired.casefold()
    how = "is" if same else "is confusable with"
    reason = f"{verb} refused: the username {how} a retired username (exposed in a breach)"
    return SigninDecision(username=username, allowed=False, reason=reason, retired=retired)


def check_signin(store: Store, username: str) -> SigninDecision:
    """May ``username`` sign in? Refused when it matches a retired username."""
    return _decide(store, username, "sign-in")


def check_registration(store: Store, username: str) -> SigninDecision:
    """May ``username`` be registered (or an account renamed to it)?"""
    return _decide(store, username, "registration")
