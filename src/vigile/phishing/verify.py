"""Did the provider really send this? A verification code, or a whole message, checked
against the notifications the ledger says were sent.

A code is genuine when it is the code (:func:`vigile.respond.codes.verification_code`,
an HMAC under Vigile's key) of a sent notification's Message-ID and one of its recipients;
given the address it was received at, that address must be the one the code was made
for (a code copied from another contact's message does not check out). A message is
genuine when its Message-ID is a sent notification's and every code it carries (its
``Vigile-Verification`` headers, and the codes in its text) is that notification's code
for the address it names; it must carry at least one. The answer says when the message
was sent, to whom, in which incident, with the inclusion proof of its
``notification.sent`` event in the ledger.

A code proves that a message with that Message-ID went to that address, not what it
said: a genuine message's text rewritten and sent again under the same Message-ID keeps
its codes. The portal shows what was sent (the incident, the date) so the reader can
compare; DKIM (the message check) is what covers the content.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from vigile.errors import ConfigError, InputError
from vigile.ledger import LedgerError
from vigile.ledger.service import Ledger
from vigile.model.times import format_rfc3339, from_micros
from vigile.phishing.parse import MAX_MESSAGE_BYTES, parse_message
from vigile.respond.codes import CODE_HEADER, load_code_key, normalize_code, verification_code
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = [
    "SentNotification",
    "Verification",
    "check_pasted",
    "sent_notifications",
    "verify_code",
    "verify_message",
]

_CODE = re.compile(r"\b[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}\b")
_MAX_CODES = 20


@dataclass(frozen=True, kw_only=True, slots=True)
class SentNotification:
    """A notification the ledger records as sent."""

    event: str
    incident: str
    customer: str | None
    message_id: str
    recipients: tuple[str, ...]
    sent: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Verification:
    """Genuine or not, why, and what was sent when genuine."""

    genuine: bool
    reason: str
    sent: SentNotification | None = None
    recipient: str | None = None
    proof: dict[str, object] | None = None

    def to_json(self) -> dict[str, Any]:
        sent = self.sent
        return {
            "genuine": self.genuine,
            "reason": self.reason,
            "message_id": sent.message_id if sent else None,
            "incident": sent.incident if sent else None,
            "sent": format_rfc3339(sent.sent) if sent else None,
            "recipient": self.recipient,
            "event": sent.event if sent else None,
            "proof": self.proof,
        }


def sent_notifications(store: Store) -> list[SentNotification]:
    """Every ``notification.sent`` event, oldest first."""
    a = t.audit_events
    query = select(a).where(a.c.action == "notification.sent").order_by(a.c.seq)
    found: list[SentNotification] = []
    with connect(store.engine) as conn:
        for row in conn.execute(query).mappings():
            details = orjson.loads(row["details"])
            found.append(
                SentNotification(
                    event=row["id"],
                    incident=row["subject"] or "",
                    customer=row["customer"],
                    message_id=str(details.get("message_id") or ""),
                    recipients=tuple(str(r).lower() for r in details.get("recipients") or ()),
                    sent=from_micros(row["time_us"]),
                )
            )
    return found


def verify_code(store: Store, key: bytes, code: str, address: str | None = None) -> Verification:
    """Is ``code`` the code of a notification that was sent (to ``address``, if given)?"""
    wanted = normalize_code(code)
    if not wanted:
        return Verification(
            genuine=False,
            reason="this is not a verification code: ours are 16 letters and digits, "
            "as ABCD-EFGH-IJKL-MNOP",
        )
    for sent in sent_notifications(store):
        for recipient in sent.recipients:
            if hmac.compare_digest(verification_code(key, sent.message_id, recipient), wanted):
                return _matched(store, sent, recipient, address)
    return Verification(
        genuine=False, reason="no message we sent carries this code: it is not from us"
    )


def _matched(
    store: Store, sent: SentNotification, recipient: str, address: str | None
) -> Verification:
    if address is not None and address.strip().lower() != recipient:
        return Verification(
            genuine=False,
            reason=(
                f"this code is genuine but was issued for another address than "
                f"{address.strip().lower()}: the message was forwarded, or its code copied "
                "into another message"
            ),
        )
    return Verification(
        genuine=True,
        reason=(
            f"we sent this message to {recipient} on {format_rfc3339(sent.sent)} about "
            f"incident {sent.incident}"
        ),
        sent=sent,
        recipient=recipient,
        proof=_proof(store, sent.event),
    )


def _proof(store: Store, event: str) -> dict[str, object] | None:
    try:
        return Ledger(store.engine, store.settings).prove(event)
    except LedgerError:
        return None


def verify_message(
    store: Store, key: bytes, raw: bytes, address: str | None = None
) -> Verification:
    """Is the message ``raw`` one the provider sent, to the addresses its codes name (and
    to ``address``, the one it was received at, if given)?"""
    message = parse_message(raw)
    sent = next((s for s in sent_notifications(store) if s.message_id == message.message_id), None)
    if sent is None or not message.message_id:
        return Verification(
            genuine=False,
            reason="we sent no message with this Message-ID: it is not from us",
        )
    elsewhere = [m.address for m in message.recipients if m.address not in sent.recipients]
    if address is not None and address.strip().lower() not in sent.recipients:
        elsewhere.append(address.strip().lower())
    if elsewhere:
        return Verification(
            genuine=False,
            reason=(
                f"we never wrote to {', '.join(dict.fromkeys(elsewhere))}: this is a copy of "
                "one of our messages, sent on by someone else"
            ),
        )
    expected = {verification_code(key, sent.message_id, r): r for r in sent.recipients}
    named = _header_codes(message.headers)
    written = list(dict.fromkeys(_CODE.findall(message.text)))[:_MAX_CODES]
    if not named and not written:
        return Verification(
            genuine=False, reason="the message carries no verification code: it is not from us"
        )
    for recipient, code in named:
        if expected.get(code) != recipient:
            return _forged(code, recipient)
    for code in written:
        if code not in expected:
            return _forged(code, None)
    recipient = named[0][0] if named else expected[written[0]]
    return _matched(store, sent, recipient, None)


def _forged(code: str, recipient: str | None) -> Verification:
    whose = f" for {recipient}" if recipient else ""
    return Verification(
        genuine=False, reason=f"the code {code}{whose} is not ours: the message was forged"
    )


def _header_codes(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """(address, code) of each ``Vigile-Verification: ADDRESS CODE`` header."""
    found: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() == CODE_HEADER.lower():
            address, _, code = value.strip().rpartition(" ")
            found.append((address.strip().lower(), normalize_code(code) or code))
    return found[:_MAX_CODES]


def check_pasted(
    store: Store, *, code: str = "", message: bytes = b"", address: str | None = None
) -> Verification:
    """What the portal and ``POST /v1/mail/verify`` answer: a code, or a whole message
    (``InputError`` when neither is given). Without a key, no notification was ever sent
    with codes, and nothing checks out."""
    if not code.strip() and not message.strip():
        raise InputError("give a verification code or the whole message")
    if len(message) > MAX_MESSAGE_BYTES:
        raise InputError(f"the message is larger than {MAX_MESSAGE_BYTES:,} bytes")
    try:
        key = load_code_key(Path(store.settings.notify_code_key), create=False)
    except ConfigError:
        return Verification(genuine=False, reason="we have sent no message with a code")
    if message.strip():
        return verify_message(store, key, message, address)
    return verify_code(store, key, code, address)
