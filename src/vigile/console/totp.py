"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), the console's second
factor for local accounts. Checked against the RFC's own test vectors."""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote

__all__ = ["match", "new_secret", "otpauth_uri", "totp", "verify"]

STEP_S = 30
DIGITS = 6


def new_secret() -> str:
    """A fresh 160-bit secret, base32 as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 HOTP value of ``counter``."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    code = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def totp(secret: str, at: datetime, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    """The code valid at ``at`` for a base32 ``secret``."""
    return hotp(_key(secret), int(at.timestamp()) // STEP_S, digits=digits, digest=digest)


def match(secret: str, code: str, at: datetime, *, window: int = 1, after: int = -1) -> int | None:
    """The time step ``code`` is valid for at ``at`` (allowing ``window`` steps of clock
    drift), if later than step ``after``: a code already used is not accepted again
    (RFC 6238, section 5.2)."""
    given = code.strip().replace(" ", "")
    if len(given) != DIGITS or not given.isdigit():
        return None
    key = _key(secret)
    now = int(at.timestamp()) // STEP_S
    for step in range(now - window, now + window + 1):
        if step > after and hmac.compare_digest(hotp(key, step), given):
            return step
    return None


def verify(secret: str, code: str, at: datetime, *, window: int = 1) -> bool:
    """Whether ``code`` is valid at ``at``, allowing ``window`` steps of clock drift."""
    return match(secret, code, at, window=window) is not None


def otpauth_uri(secret: str, username: str, issuer: str = "Vigile") -> str:
    """The ``otpauth://`` URI an authenticator app enrols from."""
    label = quote(f"{issuer}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}"
