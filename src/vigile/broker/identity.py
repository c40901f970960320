"""Agents' credentials: bearer JWTs, from an OIDC issuer (verified against a JWKS
file) or issued locally (embedded mode, HMAC-signed with a key file).

A token names the agent (``sub``), its session (``sid``), its roles (``roles``), when
it was issued (``iat``) and its second factor (``mfa``, or an OIDC ``amr`` list). Every
new session is recorded as a ``signin`` event, and every refusal of a valid token (no
second factor, issued before the agent's suspension or resume, a suspended agent's
privileged operation) as a failed one with its reason.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from vigile.broker.containment import Sessions
from vigile.broker.errors import Unauthenticated
from vigile.broker.facts import FactReader
from vigile.errors import ConfigError
from vigile.model import SignIn
from vigile.record import GroupCommitter
from vigile.settings import Settings

__all__ = ["LOCAL_ISSUER", "ROLES", "Authenticator", "LocalTokens", "OidcVerifier", "Principal"]

LOCAL_ISSUER = "vigile-local"
#: Roles a token may carry: agents read data, supervisors approve grants, analysts contain.
ROLES = frozenset({"agent", "supervisor", "analyst"})
# amr values (RFC 8176) that prove a second factor, and the spec's mfa word for each.
_AMR_MFA = {"hwk": "webauthn", "swk": "webauthn", "otp": "totp", "sms": "totp", "mfa": "push"}
_MFA_METHODS = {"totp", "push", "webauthn"}
_VERIFIED_MEMORY = 100_000  # verified tokens remembered (forgotten all at once past that)


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """An authenticated agent on one session.

    ``via`` names the channel a request came through when it is not the agent's own
    (an MCP tool call: the tool, the conversation, whom it acts for); every access the
    request leaves carries it, so the record says how the data was reached."""

    agent: str
    session: str
    roles: frozenset[str]
    mfa: str | None
    ip: str
    via: Mapping[str, str] | None = None

    @property
    def has_mfa(self) -> bool:
        return self.mfa in _MFA_METHODS


@dataclass(frozen=True, kw_only=True, slots=True)
class _Claims:
    agent: str
    session: str
    roles: frozenset[str]
    mfa: str | None
    issued: int  # iat, seconds
    key: bytes | None = None  # the local key it was verified with (None: OIDC)


class LocalTokens:
    """Tokens the broker issues itself (``vigile broker token``)."""

    def __init__(self, settings: Settings) -> None:
        self.path = Path(settings.broker_token_key)
        self.hours = settings.broker_token_hours
        # The key as last read, and the file it was read from (inode, size, mtime): a
        # replaced key file is read again, an unchanged one is not read per request.
        self._read: tuple[tuple[int, int, int], bytes] | None = None

    def issue(self, agent: str, *, roles: frozenset[str], mfa: str | None, now: datetime) -> str:
        """A token for ``agent`` valid ``VIGILE_BROKER_TOKEN_HOURS``; a new session."""
        unknown = roles - ROLES
        if unknown:
            raise ConfigError(
                f"unknown role {sorted(unknown)[0]!r} (known: {', '.join(sorted(ROLES))})"
            )
        claims: dict[str, Any] = {
            "iss": LOCAL_ISSUER,
            "sub": agent,
            "sid": f"s-{uuid.uuid4().hex[:16]}",
            "roles": sorted(roles),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(hours=self.hours)).timestamp()),
        }
        if mfa:
            claims["mfa"] = mfa
        return jwt.encode(claims, self._key(create=True), algorithm="HS256")

    def verify(self, token: str) -> _Claims:
        key = self._key(create=False)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                issuer=LOCAL_ISSUER,
                options={"require": ["exp", "iat", "sub", "sid", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        return replace(_claims(claims, mfa=claims.get("mfa")), key=key)

    def current_key(self) -> bytes | None:
        """The key tokens are checked with now (``None`` without a key file): a token
        verified with another key is verified again."""
        try:
            return self._key(create=False)
        except Unauthenticated:
            return None

    def _key(self, *, create: bool) -> bytes:
        if not self.path.exists():
            if not create:
                raise Unauthenticated("invalid token: no local tokens were ever issued")
            _write_key(self.path)
        info = self.path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{self.path}: readable by others; chmod 600 it")
        version = (info.st_ino, info.st_size, info.st_mtime_ns)
        if self._read is None or self._read[0] != version:
            self._read = (version, bytes.fromhex(self.path.read_text().strip()))
        return self._read[1]


def _write_key(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")


class OidcVerifier:
    """JWTs of the configured OIDC issuer, checked against its JWKS file."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.broker_oidc_issuer
        self.audience = settings.broker_oidc_audience
        try:
            self.keys = jwt.PyJWKSet.from_json(Path(settings.broker_oidc_jwks).read_text())
        except (OSError, jwt.PyJWTError) as exc:
            raise ConfigError(f"VIGILE_BROKER_OIDC_JWKS: cannot read the key set: {exc}") from exc

    def verify(self, token: str) -> _Claims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys[kid] if kid else self.keys.keys[0]
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256", "ES256", "EdDSA", "PS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        amr = claims.get("amr", [])
        if not isinstance(amr, list) or not all(isinstance(m, str) for m in amr):
            raise Unauthenticated("invalid token: amr must be a list of strings")
        mfa = next((_AMR_MFA[m] for m in amr if m in _AMR_MFA), None)
        # The IdP's session id, else the token's id, else the sign-in it was issued at.
        claims["sid"] = claims.get("sid") or claims.get("jti") or f"{claims['sub']}/{claims['iat']}"
        return _claims(claims, mfa=mfa)


def _claims(claims: dict[str, Any], *, mfa: object) -> _Claims:
    roles = claims.get("roles", ["agent"])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("invalid token: roles must be a list of strings")
    if not isinstance(claims["sid"], str) or not claims["sid"]:
        raise Unauthenticated("invalid token: sid must be a non-empty string")
    return _Claims(
        agent=str(claims["sub"]),
        session=claims["sid"],
        roles=frozenset(roles) & ROLES,
        mfa=mfa if isinstance(mfa, str) and mfa in _MFA_METHODS else None,
        issued=int(claims["iat"]),  # PyJWT checked it is a number
    )


class Authenticator:
    """Turns a bearer token into a :class:`Principal`, recording new sessions."""

    def __init__(
        self,
        settings: Settings,
        sessions: Sessions,
        committer: GroupCommitter,
        clock: Callable[[], datetime],
        *,
        facts: FactReader | None = None,
    ) -> None:
        self.local = LocalTokens(settings)
        self.oidc = OidcVerifier(settings) if settings.broker_oidc_issuer else None
        self.require_mfa = bool(settings.broker_require_mfa)
        self._sessions = sessions
        self._committer = committer
        self._clock = clock
        self._facts = facts
        # Tokens already verified: (claims, not before, expiry). A token is a signed,
        # immutable text, so its signature needs checking once (per local key: a
        # replaced key file refuses what the old key signed); its times every time.
        self._verified: dict[str, tuple[_Claims, float, float]] = {}

    def authenticate(self, token: str | None, *, ip: str, user_agent: str | None) -> Principal:
        """The principal of ``token`` (:class:`Unauthenticated` otherwise)."""
        if not token:
            raise Unauthenticated("a bearer token is required")
        claims = self._verify(token)
        principal = Principal(
            agent=claims.agent, session=claims.session, roles=claims.roles, mfa=claims.mfa, ip=ip
        )
        if self.require_mfa and not principal.has_mfa:
            why = "this sign-in used no second factor: sign in again with MFA"
            self._record_signin(principal, user_agent, outcome="failure", reason=why)
            raise Unauthenticated(why)
        state = self._session_state(claims)
        if state == "revoked":
            raise Unauthenticated("this session was revoked: sign in again")
        if state == "new":
            self._refuse_if_stale(claims, principal, user_agent)
            # Recorded before the session is remembered: if recording fails, the next
            # request tries again (the event's id makes a repeat a duplicate).
            self._record_signin(principal, user_agent, outcome="success")
            self._sessions.open(claims.session, claims.agent, self._clock())
            # A suspension or resume between the check and the opening revoked every
            # session but could not see this one: look again now that it is open.
            if self._stale(claims):
                self._sessions.revoke(claims.session, self._clock())
                self._refuse_if_stale(claims, principal, user_agent)
        return principal

    def admit_privileged(self, principal: Principal, what: str, *, suspended: bool) -> None:
        """Authentication for a privileged operation (approving or denying grants,
        suspending or resuming agents): refused (:class:`Unauthenticated`, recorded as a
        failed sign-in) for a suspended agent, and without a second factor whatever
        ``VIGILE_BROKER_REQUIRE_MFA`` says."""
        if suspended:
            why = f"agent {principal.agent} is suspended: {what} is refused"
        elif not principal.has_mfa:
            why = f"{what} needs a sign-in with a second factor: sign in again with MFA"
        else:
            return
        self._record_signin(principal, None, outcome="failure", reason=why)
        raise Unauthenticated(why)

    def _stale(self, claims: _Claims) -> bool:
        """Whether the token was issued before its agent's last suspension or resume
        (``iat`` counts in whole seconds: a token of that same second is refused too)."""
        since = self._sessions.not_before(claims.agent)
        return since is not None and claims.issued * 1_000_000 < since

    def _refuse_if_stale(
        self, claims: _Claims, principal: Principal, user_agent: str | None
    ) -> None:
        if not self._stale(claims):
            return
        why = "this token was issued before the agent's last suspension or resume: sign in again"
        self._record_signin(principal, user_agent, outcome="failure", reason=why)
        raise Unauthenticated(why)

    def known(self, token: str | None, *, ip: str) -> Principal | None:
        """The principal of ``token`` when nothing needs recording (a valid token, its
        second factor as required, its session already open); ``None`` when
        :meth:`authenticate` must run (it may record a sign-in). Raises
        :class:`Unauthenticated` for a token that is refused whatever happens."""
        if not token:
            return None
        claims = self._verify(token)
        principal = Principal(
            agent=claims.agent, session=claims.session, roles=claims.roles, mfa=claims.mfa, ip=ip
        )
        if self.require_mfa and not principal.has_mfa:
            return None
        return principal if self._session_state(claims) == "open" else None

    def _session_state(self, claims: _Claims) -> str:
        if self._facts is None:
            return self._sessions.state(claims.session, claims.agent)
        with self._facts.reading() as facts:
            return facts.session_state(claims.session, claims.agent)

    def _verify(self, token: str) -> _Claims:
        known = self._verified.get(token)
        if known is not None:
            claims, not_before, expires = known
            if not_before <= time.time() < expires and (
                claims.key is None or claims.key == self.local.current_key()
            ):
                return claims
            self._verified.pop(token, None)
        claims = self._verify_signed(token)
        self._remember(token, claims)
        return claims

    def _remember(self, token: str, claims: _Claims) -> None:
        times = jwt.decode(token, options={"verify_signature": False})
        expires = times.get("exp")
        if not isinstance(expires, int | float):
            return  # never cached without an expiry
        not_before = times.get("nbf", 0)
        if len(self._verified) >= _VERIFIED_MEMORY:
            self._verified.clear()
        self._verified[token] = (
            claims,
            float(not_before) if isinstance(not_before, int | float) else float("inf"),
            float(expires),
        )

    def _verify_signed(self, token: str) -> _Claims:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        if issuer == LOCAL_ISSUER:
            return self.local.verify(token)
        if self.oidc is not None and issuer == self.oidc.issuer:
            return self.oidc.verify(token)
        raise Unauthenticated("invalid token: unknown issuer")

    def _record_signin(
        self,
        principal: Principal,
        user_agent: str | None,
        *,
        outcome: str,
        reason: str | None = None,
    ) -> None:
        # One sign-in event per session and outcome: the id makes repeats duplicates.
        self._committer.record(
            [
                SignIn(
                    id=f"signin-{outcome}-{principal.session}",
                    time=self._clock(),
                    agent=principal.agent,
                    session=principal.session,
                    outcome=outcome,
                    ip=principal.ip,
                    user_agent=user_agent,
                    mfa=principal.mfa or "none",
                    extra={"reason": reason} if reason else {},
                )
            ]
        )
