"""The signals of a message check: each a pure function of the parsed message and what
the guard knows, each reported in plain words with the evidence it rests on.

Weights add up to the verdict's score (:mod:`vigile.phishing.check`). They are chosen so
that no single weak sign (a Reply-To elsewhere, a word of urgency) makes a message more
than *suspicious*, while a lookalike domain, a failed DMARC, or a watched contact asked to
pay elsewhere with the facts the attacker saw, does make it *phishing*.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import authres  # type: ignore[import-untyped]
import dkim  # type: ignore[import-untyped]

from vigile.phishing.domains import ProviderDomains, registrable
from vigile.phishing.parse import ParsedMessage
from vigile.phishing.watchlist import WatchedAddress, WatchList
from vigile.phishing.wording import PAYMENT_CHANGE, URGENCY, fold

__all__ = ["SIGNALS", "Context", "Signal"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Signal:
    """One reason to trust or distrust a message."""

    kind: str
    weight: int  # negative: a reason to trust
    reason: str  # plain words
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "weight": self.weight,
            "reason": self.reason,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    """What the guard knows besides the message."""

    provider: ProviderDomains
    names: tuple[str, ...]  # the provider's names, as a display name would claim them
    watchlist: WatchList
    dkim_keys: Mapping[str, bytes]  # "selector._domainkey.domain" -> its TXT record
    authserv_ids: tuple[str, ...]  # the receiving servers whose results are believed
    recipients: tuple[str, ...]  # envelope recipients given by the caller


def watched(message: ParsedMessage, context: Context) -> list[WatchedAddress]:
    """The watched addresses the message is addressed to (headers and envelope)."""
    addresses = [m.address for m in message.recipients] + list(context.recipients)
    found = (context.watchlist.get(a) for a in dict.fromkeys(addresses))
    return [entry for entry in found if entry is not None]


def _watched_recipient(message: ParsedMessage, context: Context) -> list[Signal]:
    """One signal however many watched addresses: a notification to all of a customer's
    contacts is no more suspect than one to a single contact."""
    entries = watched(message, context)
    if not entries:
        return []
    described = "; ".join(
        f"{e.address}, exposed in {', '.join(e.incidents)} on {e.exposed.date().isoformat()}"
        + (" (an old address, since replaced)" if e.status == "renamed" else "")
        for e in entries[:5]
    )
    return [
        Signal(
            kind="watched-recipient",
            weight=10,
            reason=f"addressed to {described}: phishing after a breach aims at these addresses",
            evidence=tuple(e.address for e in entries[:5]),
        )
    ]


def _lookalike_domains(message: ParsedMessage, context: Context) -> list[Signal]:
    signals: list[Signal] = []
    senders = [("sender", m.domain, 50) for m in message.sender]
    senders += [("Reply-To", m.domain, 40) for m in message.reply_to]
    if "@" in message.return_path:
        senders.append(("Return-Path", message.return_path.rpartition("@")[2], 40))
    links = [("link", host, 40) for host in message.links]
    seen: set[tuple[str, str]] = set()
    for where, domain, weight in senders + links:
        found = context.provider.lookalike(domain)
        if found is not None and (where, found.domain) not in seen:
            seen.add((where, found.domain))
            signals.append(
                Signal(
                    kind="lookalike-domain",
                    weight=weight,
                    reason=f"the {where} domain {found.explain()}",
                    evidence=(found.domain, found.kind),
                )
            )
    return signals[:10]


def _display_name(message: ParsedMessage, context: Context) -> list[Signal]:
    signals: list[Signal] = []
    for mailbox in message.sender:
        claimed = _claimed_name(mailbox.name, context)
        if claimed and not context.provider.owns(mailbox.domain):
            signals.append(
                Signal(
                    kind="display-name",
                    weight=35,
                    reason=(
                        f'the sender calls itself "{mailbox.name}" but writes from '
                        f"{mailbox.domain}, which is not one of the provider's domains"
                    ),
                    evidence=(mailbox.name, mailbox.domain),
                )
            )
    return signals


def _claimed_name(display: str, context: Context) -> str | None:
    folded = fold(display)
    names = context.names + context.provider.domains
    return next((n for n in names if n and fold(n) in folded), None)


def _reply_elsewhere(message: ParsedMessage, context: Context) -> list[Signal]:
    if not message.sender:
        return []
    home = registrable(message.sender[0].domain)
    claims_provider = context.provider.owns(home) or bool(
        _claimed_name(message.sender[0].name, context)
    )
    signals: list[Signal] = []
    for mailbox in message.reply_to:
        if registrable(mailbox.domain) != home:
            signals.append(
                Signal(
                    kind="reply-elsewhere",
                    weight=30 if claims_provider else 10,
                    reason=f"replies go to {mailbox.address}, not to the sender's domain {home}",
                    evidence=(mailbox.address,),
                )
            )
    bounce = message.return_path.rpartition("@")[2].lower()
    if bounce and registrable(bounce) != home and claims_provider:
        signals.append(
            Signal(
                kind="return-path-elsewhere",
                weight=15,
                reason=(
                    f"the message claims the provider but its envelope sender is "
                    f"{message.return_path}, outside {home}"
                ),
                evidence=(message.return_path,),
            )
        )
    return signals


_AUTH_WEIGHTS = {"spf": 15, "dkim": 20, "dmarc": 35}
_FAILING = frozenset({"fail", "softfail", "permerror"})


def _authentication(message: ParsedMessage, context: Context) -> list[Signal]:
    signals: list[Signal] = []
    for header in _believed_results(message, context):
        for result in header.results:
            method, outcome = str(result.method).lower(), str(result.result).lower()
            if method in _AUTH_WEIGHTS and outcome in _FAILING:
                signals.append(
                    Signal(
                        kind=f"{method}-fail",
                        weight=_AUTH_WEIGHTS[method],
                        reason=(
                            f"the receiving server {header.authserv_id} found "
                            f"{method.upper()} {outcome}: the message may not come from "
                            "where it says"
                        ),
                        evidence=(f"{method}={outcome}",),
                    )
                )
    return signals


def _believed_results(message: ParsedMessage, context: Context) -> list[Any]:
    """The parsed Authentication-Results the guard believes: those of the configured
    receiving servers, or else the topmost header only (the one the last server added;
    the ones below it could have been written by the sender)."""
    parsed = []
    for text in message.authentication_results:
        # authres costs milliseconds a header: a header whose plain leading authserv-id
        # is not a configured server's is not parsed at all (one with a comment is).
        if context.authserv_ids and _plain_authserv_id(text) not in (
            None,
            *context.authserv_ids,
        ):
            continue
        try:
            header = authres.parse_value(text)
        except (authres.AuthResError, ValueError, IndexError, TypeError):
            continue
        if not context.authserv_ids:
            return [header]  # the topmost header that parses, and no other
        if str(header.authserv_id).lower() in context.authserv_ids:
            parsed.append(header)
    return parsed


def _plain_authserv_id(text: str) -> str | None:
    """The authserv-id an Authentication-Results value starts with, in lower case, when it
    is plain (no comment, no quoting); None when only a full parse can tell."""
    head = text.split(";", 1)[0].strip()
    if not head or any(c in head for c in '()"\\'):
        return None
    return head.split()[0].lower()


def _dkim(message: ParsedMessage, context: Context) -> list[Signal]:
    """Verify the DKIM signature with dkimpy, when the key of its selector is given
    (never from DNS: the guard's lookup reads only the configured keys)."""
    signature = message.header("dkim-signature")
    if not signature or not context.dkim_keys:
        return []
    tags = dict(part.strip().split("=", 1) for part in signature.split(";") if "=" in part)
    name = f"{tags.get('s', '').strip()}._domainkey.{tags.get('d', '').strip().lower()}"
    if name not in context.dkim_keys:
        return []
    ok = _dkim_verifies(message.raw, context.dkim_keys)
    if ok:
        return [
            Signal(
                kind="dkim-verified",
                weight=-10,
                reason=f"the DKIM signature verifies with the key of {name}",
                evidence=(name,),
            )
        ]
    return [
        Signal(
            kind="dkim-invalid",
            weight=40,
            reason=f"the DKIM signature does not verify with the key of {name}: altered or forged",
            evidence=(name,),
        )
    ]


def _dkim_verifies(raw: bytes, keys: Mapping[str, bytes]) -> bool:
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return keys.get(name.decode("ascii", "replace").rstrip(".").lower())

    try:
        return bool(dkim.verify(raw, dnsfunc=lookup))
    except Exception:
        return False


def _provider_authenticated(message: ParsedMessage, context: Context) -> list[Signal]:
    """From the provider's own domain, and the receiving server's DMARC passed."""
    if not message.sender or not context.provider.owns(message.sender[0].domain):
        return []
    for header in _believed_results(message, context):
        for result in header.results:
            if str(result.method).lower() == "dmarc" and str(result.result).lower() == "pass":
                return [
                    Signal(
                        kind="provider-authenticated",
                        weight=-30,
                        reason=(
                            f"sent from the provider's domain {message.sender[0].domain} "
                            f"and DMARC passed at {header.authserv_id}"
                        ),
                        evidence=("dmarc=pass",),
                    )
                ]
    return []


def _quoted_facts(message: ParsedMessage, context: Context) -> list[Signal]:
    text = message.folded
    signals: list[Signal] = []
    for entry in watched(message, context):
        quoted = [f for f in entry.facts() if _contains(text, fold(f))]
        if quoted:
            signals.append(
                Signal(
                    kind="quoted-facts",
                    weight=25,
                    reason=(
                        f"quotes what the attacker saw about {entry.address}: "
                        + ", ".join(quoted[:5])
                    ),
                    evidence=tuple(quoted[:5]),
                )
            )
    return signals[:1]


def _contains(text: str, fact: str) -> bool:
    """``fact`` in ``text`` as whole words or a whole number (``450`` not in ``14500``)."""
    start = text.find(fact)
    while start != -1:
        before = text[start - 1] if start else " "
        end = start + len(fact)
        after = text[end] if end < len(text) else " "
        if not before.isalnum() and not (after.isalnum() or (after in ".," and _digit(text, end))):
            return True
        start = text.find(fact, start + 1)
    return False


def _digit(text: str, index: int) -> bool:
    return index + 1 < len(text) and text[index + 1].isdigit()


def _wording(message: ParsedMessage, context: Context) -> list[Signal]:
    text = message.folded
    signals: list[Signal] = []
    payment = PAYMENT_CHANGE.found(text)
    if payment:
        signals.append(
            Signal(
                kind="payment-change",
                weight=25,
                reason="asks to pay elsewhere or to change payment details: "
                + "; ".join(f'"{p}"' for p in payment),
                evidence=payment,
            )
        )
    hurry = URGENCY.found(text)
    if hurry:
        signals.append(
            Signal(
                kind="urgency",
                weight=10,
                reason="hurries the reader: " + "; ".join(f'"{p}"' for p in hurry),
                evidence=hurry,
            )
        )
    return signals


def _limits(message: ParsedMessage, context: Context) -> list[Signal]:
    if not message.limits:
        return []
    return [
        Signal(
            kind="unreadable",
            weight=25,
            reason="the message is built to be hard to read: " + "; ".join(message.limits),
            evidence=message.limits,
        )
    ]


#: Every signal, in the order they are reported.
SIGNALS: tuple[Callable[[ParsedMessage, Context], list[Signal]], ...] = (
    _watched_recipient,
    _lookalike_domains,
    _display_name,
    _reply_elsewhere,
    _authentication,
    _dkim,
    _provider_authenticated,
    _quoted_facts,
    _wording,
    _limits,
)
