"""Verification codes: how a customer tells a genuine notification from phishing.

Every notification carries, for each recipient, a short code: the first 80 bits of an
HMAC-SHA256, under a key only Vigile holds (``VIGILE_NOTIFY_CODE_KEY``), of the message's
Message-ID and that recipient's address, in base32 (``ABCD-EFGH-IJKL-MNOP``). Without the
key nobody can make a code for a message Vigile did not send, nor move a code to another
message or another recipient: the code names one message to one address. The codes are in
the message's ``Vigile-Verification`` headers and in its text; the recipient pastes theirs
(or the whole message) into the customer portal, which looks the message up among the
notifications the ledger says were sent (:mod:`vigile.phishing.verify`).

The key is 32 random bytes, written (mode 0600) the first time a notification is
rendered; a missing key is never replaced once notifications were sent, as the codes
already sent would stop checking out (the file is created only when it does not exist).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from vigile.errors import ConfigError

__all__ = [
    "CODE_HEADER",
    "codes_for",
    "load_code_key",
    "message_id_of",
    "normalize_code",
    "verification_code",
]

#: The header each recipient's code is in: ``Vigile-Verification: ADDRESS CODE``.
CODE_HEADER = "Vigile-Verification"
_CONTEXT = b"vigile notification code v1\0"
_KEY_BYTES = 32
# Characters people misread for base32 ones (base32 has no 0, 1, 8 or 9).
_MISREAD = str.maketrans({"0": "O", "1": "I", "8": "B", "9": "G"})


def message_id_of(incident: str, customer: str, domain: str) -> str:
    """The Message-ID of an incident's notification to a customer: one per pair, so a
    resend is recognisably the same message."""
    return f"<{incident}.{customer}@{domain}>"


def verification_code(key: bytes, message_id: str, recipient: str) -> str:
    """The code of ``message_id`` to ``recipient`` (compared lower-cased)."""
    text = message_id.strip() + "\0" + recipient.strip().lower()
    mac = hmac.new(key, _CONTEXT + text.encode("utf-8"), hashlib.sha256).digest()
    letters = base64.b32encode(mac[:10]).decode("ascii")  # 80 bits, 16 characters
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def codes_for(
    key: bytes, message_id: str, recipients: Iterable[str]
) -> tuple[tuple[str, str], ...]:
    """(recipient, code) for each recipient, in order."""
    return tuple((r, verification_code(key, message_id, r)) for r in recipients)


def normalize_code(text: str) -> str:
    """A code as typed (spaces, no hyphens, lower case, 0 for O) in its canonical form,
    or ``""`` when it cannot be one."""
    letters = "".join(c for c in text.upper() if c.isalnum()).translate(_MISREAD)
    if len(letters) != 16 or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for c in letters):
        return ""
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


def load_code_key(path: Path, *, create: bool) -> bytes:
    """The key in ``path``; created (mode 0600) when missing and ``create``."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            raise ConfigError(
                f"VIGILE_NOTIFY_CODE_KEY: {path} does not exist: no notification was sent "
                "with codes from this key"
            ) from None
        return _create(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"VIGILE_NOTIFY_CODE_KEY: {path}: cannot read: {exc}") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != _KEY_BYTES:
        raise ConfigError(f"VIGILE_NOTIFY_CODE_KEY: {path}: not a key of {_KEY_BYTES} bytes (hex)")
    return key


def _create(path: Path) -> bytes:
    key = secrets.token_bytes(_KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return load_code_key(path, create=False)
    except OSError as exc:
        raise ConfigError(f"VIGILE_NOTIFY_CODE_KEY: {path}: cannot create: {exc}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key.hex() + "\n")
    return key
