"""The message check: a verdict, its score, and every signal in plain words.

:class:`Guard` holds what does not change from one message to the next (the provider's
domains and their permutations, the watch list, the DKIM keys) and checks raw messages:
a pure function of the bytes and that state. Verdicts: ``clean`` (score under
:data:`SUSPICIOUS`), ``suspicious``, ``phishing`` (from :data:`PHISHING`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigile.errors import ConfigError
from vigile.phishing.domains import ProviderDomains
from vigile.phishing.parse import ParsedMessage, parse_message
from vigile.phishing.signals import SIGNALS, Context, Signal
from vigile.phishing.watchlist import WatchList
from vigile.settings import Settings

__all__ = ["PHISHING", "SUSPICIOUS", "Guard", "Verdict", "load_dkim_keys"]

SUSPICIOUS = 25
PHISHING = 60


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    """What the check concluded about one message, and why."""

    verdict: str  # clean, suspicious, phishing
    score: int
    message_id: str
    subject: str
    sender: str
    signals: tuple[Signal, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "score": self.score,
            "message_id": self.message_id,
            "subject": self.subject,
            "from": self.sender,
            "signals": [s.to_json() for s in self.signals],
        }


def _verdict(score: int) -> str:
    if score >= PHISHING:
        return "phishing"
    return "suspicious" if score >= SUSPICIOUS else "clean"


class Guard:
    """Checks messages against the provider's domains and the watch list."""

    def __init__(
        self,
        *,
        provider: ProviderDomains,
        names: Sequence[str] = (),
        watchlist: WatchList | None = None,
        dkim_keys: Mapping[str, bytes] | None = None,
        authserv_ids: Sequence[str] = (),
    ) -> None:
        self.provider = provider
        self.names = tuple(n for n in names if n.strip()) or tuple(
            d.split(".", 1)[0] for d in provider.registrable
        )
        self.watchlist = watchlist or WatchList(incidents=(), addresses=())
        self.dkim_keys = dict(dkim_keys or {})
        self.authserv_ids = tuple(a.strip().lower() for a in authserv_ids if a.strip())

    @classmethod
    def from_settings(cls, settings: Settings, watchlist: WatchList | None = None) -> Guard:
        """The guard the settings describe (``VIGILE_PHISH_*``)."""
        domains = _split(settings.phish_provider_domains) or (
            settings.notify_from.rpartition("@")[2],
        )
        keys = load_dkim_keys(Path(settings.phish_dkim_keys)) if settings.phish_dkim_keys else {}
        return cls(
            provider=ProviderDomains.of(tuple(domains)),
            names=_split(settings.phish_provider_names),
            watchlist=watchlist,
            dkim_keys=keys,
            authserv_ids=_split(settings.phish_authserv_ids),
        )

    def check(self, raw: bytes, *, recipients: Sequence[str] = ()) -> Verdict:
        """Check one message (``recipients``: the envelope's, when the caller knows)."""
        return self.check_parsed(parse_message(raw), recipients=recipients)

    def check_parsed(self, message: ParsedMessage, *, recipients: Sequence[str] = ()) -> Verdict:
        context = Context(
            provider=self.provider,
            names=self.names,
            watchlist=self.watchlist,
            dkim_keys=self.dkim_keys,
            authserv_ids=self.authserv_ids,
            recipients=tuple(r.strip().lower() for r in recipients),
        )
        signals = tuple(s for check in SIGNALS for s in check(message, context))
        score = max(0, sum(s.weight for s in signals))
        sender = message.sender[0].address if message.sender else ""
        return Verdict(
            verdict=_verdict(score),
            score=score,
            message_id=message.message_id,
            subject=message.subject,
            sender=sender,
            signals=signals,
        )


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def load_dkim_keys(path: Path) -> dict[str, bytes]:
    """DKIM public keys as DNS would give them, from a file: one key a line,
    ``SELECTOR._domainkey.DOMAIN TXT-RECORD`` (``#`` comments); the guard never asks
    DNS."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"VIGILE_PHISH_DKIM_KEYS: {path}: cannot read: {exc}") from exc
    keys: dict[str, bytes] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, record = line.strip().partition(" ")
        if "._domainkey." not in name or "p=" not in record:
            raise ConfigError(
                f"VIGILE_PHISH_DKIM_KEYS: {path}:{number}: expected "
                "'SELECTOR._domainkey.DOMAIN v=DKIM1; k=rsa; p=...'"
            )
        keys[name.rstrip(".").lower()] = record.strip().strip('"').encode("ascii", "replace")
    return keys
