"""The story's last act: the phishing that follows the leak, and the guard.

After the incident, the attacker writes to the exposed contacts with what it read about
them (their services, their amounts), from domains that imitate the provider's; and the
provider's own notification arrives too. The guard (:mod:`vigile.phishing`) checks each
message as the contacts' mail gateway would, against the incident's watch list: it must
flag the phishing with its reasons and pass the genuine notification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from vigile.phishing import Guard, Verdict, WatchedAddress, WatchList, build_watchlist
from vigile.respond import Incidents, Notice
from vigile.store import Store

__all__ = ["CheckedMessage", "PhishingRound", "phishing_round"]


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckedMessage:
    """One message of the round: what it is, to whom, and the guard's verdict."""

    kind: str  # "phishing" or "genuine"
    recipient: str
    verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "recipient": self.recipient, **self.verdict.to_json()}


@dataclass(frozen=True, kw_only=True, slots=True)
class PhishingRound:
    """The watch list's size, and every message checked."""

    watched: int
    messages: tuple[CheckedMessage, ...]

    @property
    def caught(self) -> int:
        """Phishing messages the guard called phishing."""
        return sum(m.kind == "phishing" and m.verdict.verdict == "phishing" for m in self.messages)

    @property
    def passed(self) -> int:
        """Genuine messages the guard called clean."""
        return sum(m.kind == "genuine" and m.verdict.verdict == "clean" for m in self.messages)

    def to_json(self) -> dict[str, Any]:
        return {
            "watched": self.watched,
            "phishing_caught": self.caught,
            "genuine_passed": self.passed,
            "messages": [m.to_json() for m in self.messages],
        }


def phishing_round(store: Store, incident_id: str, notices: Sequence[Notice]) -> PhishingRound:
    """Build the attacker's messages from the incident's watch list, add the genuine
    notification, and check them all."""
    incidents = Incidents(store)
    watchlist = build_watchlist(incidents, [incident_id])
    guard = Guard.from_settings(store.settings, watchlist)
    provider = guard.provider.domains[0]
    now = incidents.clock()
    targets = _targets(watchlist)
    checked: list[CheckedMessage] = []
    for build, target in zip(_ATTACKS, targets, strict=False):
        message = build(target, provider)
        message["Date"] = format_datetime(now)
        checked.append(_check(guard, "phishing", target.address, _received(message, target)))
    genuine = _genuine(notices, watchlist)
    if genuine is not None:
        notice, address = genuine
        raw = _authenticated(notice.message.as_bytes(), provider, address)
        checked.append(CheckedMessage(kind="genuine", recipient=address, verdict=guard.check(raw)))
    return PhishingRound(watched=len(watchlist), messages=tuple(checked))


def _targets(watchlist: WatchList) -> list[WatchedAddress]:
    """The addresses the attacker knows most about first (an amount seen, then a
    service), billing contacts before the others."""
    ranked = sorted(
        watchlist,
        key=lambda w: (
            not any(s.monthly_amount is not None for s in w.subscriptions),
            not w.subscriptions,
            w.role != "billing",
            w.address,
        ),
    )
    return ranked[: len(_ATTACKS)]


def _check(guard: Guard, kind: str, recipient: str, message: bytes) -> CheckedMessage:
    return CheckedMessage(kind=kind, recipient=recipient, verdict=guard.check(message))


def _received(message: EmailMessage, target: WatchedAddress) -> bytes:
    """The message as the contact's server received it: the server's
    Authentication-Results on top (the attacker's domains have no SPF or DMARC for it)."""
    sender = message["From"].addresses[0].domain
    server = target.address.rpartition("@")[2]
    results = (
        f"Authentication-Results: mx.{server}; spf=fail smtp.mailfrom={sender}; "
        f"dkim=none; dmarc=fail header.from={sender}\r\n"
    )
    return results.encode() + message.as_bytes()


def _authenticated(raw: bytes, provider: str, address: str) -> bytes:
    """The genuine notification as received: SPF, DKIM and DMARC pass for the provider."""
    server = address.rpartition("@")[2]
    results = (
        f"Authentication-Results: mx.{server}; spf=pass smtp.mailfrom={provider}; "
        f"dkim=pass header.d={provider}; dmarc=pass header.from={provider}\r\n"
    )
    return results.encode() + raw


def _genuine(notices: Sequence[Notice], watchlist: WatchList) -> tuple[Notice, str] | None:
    """A notification written to a watched address (the contacts phishing aims at)."""
    for notice in notices:
        for address in notice.message["To"].addresses:
            if watchlist.get(address.addr_spec) is not None:
                return notice, address.addr_spec.lower()
    return None


def _facts(target: WatchedAddress) -> tuple[str, str]:
    """A service name and an amount the attacker saw (or plausible words instead)."""
    service = next((s.describe().split(",")[0] for s in target.subscriptions), "your services")
    amount = next(
        (
            f"{s.monthly_amount:,.2f} {s.currency or ''}".strip()
            for s in target.subscriptions
            if s.monthly_amount is not None
        ),
        "the amount due",
    )
    return service, amount


def _lookalike(provider: str) -> str:
    label, _, rest = provider.partition(".")
    swapped = label.replace("l", "1", 1) if "l" in label else label + "s"
    return f"{swapped}.{rest}"


def _invoice(target: WatchedAddress, provider: str) -> EmailMessage:
    """English: a lookalike domain, new bank details, the subscription and its amount."""
    domain = _lookalike(provider)
    service, amount = _facts(target)
    message = EmailMessage()
    message["From"] = f"{provider.split('.', maxsplit=1)[0].title()} Billing <billing@{domain}>"
    message["To"] = target.address
    message["Reply-To"] = "payments@settle-now.example"
    message["Subject"] = f"URGENT: payment for {service} failed"
    message["Message-ID"] = f"<demo-phish-1@{domain}>"
    message.set_content(
        f"Dear {target.name or 'customer'},\n\nYour payment of {amount} for {service} could "
        "not be processed. Our bank details have changed: please pay to the new account within "
        f"48 hours or your subscription will be suspended.\n\nhttps://{domain}/billing/pay\n"
    )
    return message


def _french(target: WatchedAddress, provider: str) -> EmailMessage:
    """French: the provider's name from a foreign domain, a new RIB, the service named."""
    service, amount = _facts(target)
    name = provider.split(".", maxsplit=1)[0].title()
    message = EmailMessage()
    message["From"] = f"Service facturation {name} <facturation@envoi-factures.example>"
    message["To"] = target.address
    message["Subject"] = f"Changement de coordonnées bancaires - {service}"
    message["Message-ID"] = "<demo-phish-2@envoi-factures.example>"
    message.set_content(
        f"Bonjour,\n\nNos coordonnées bancaires ont changé. Merci de régler votre abonnement "
        f"{service} ({amount}) sur notre nouveau RIB sous 24 heures.\n\n"
        f"https://{provider}.envoi-factures.example/rib\n"
    )
    return message


def _confusable(target: WatchedAddress, provider: str) -> EmailMessage:
    """English: a link to the provider's name spelt with a Cyrillic letter."""
    label, _, rest = provider.partition(".")
    fake = label.replace("i", "\u0456", 1) if "i" in label else label.replace("o", "\u043e", 1)
    service, _ = _facts(target)
    message = EmailMessage()
    message["From"] = f"{label.title()} Security <security-notice@account-alerts.example>"
    message["To"] = target.address
    message["Subject"] = "Action required on your account"
    message["Message-ID"] = "<demo-phish-3@account-alerts.example>"
    message.set_content(
        f"We noticed unusual activity on {service}. Update your payment method immediately "
        f"to keep your account: https://{fake}.{rest}/login\n"
    )
    return message


_ATTACKS = (_invoice, _french, _confusable)
