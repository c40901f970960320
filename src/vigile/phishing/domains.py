"""The provider's own domains, and the domains that imitate them.

A domain imitates one of the provider's when (checked in this order):

- it is one of dnstwist's permutations of it (each permutation named by dnstwist's own
  fuzzer kind: ``addition``, ``bitsquatting``, ``cyrillic``, ``homoglyph``,
  ``hyphenation``, ``insertion``, ``omission``, ``plural``, ``repetition``,
  ``replacement``, ``subdomain``, ``transposition``, ``vowel-swap``, ``various``,
  ``dictionary`` with the words of :data:`PHISHING_WORDS`, and ``tld-swap`` over every
  top-level domain of the public suffix list);
- its registrable label, mapped through Unicode's confusables (the ``confusable_homoglyphs``
  data, as retired usernames are), reads as the provider's: ``vig\u0456le`` with a
  Cyrillic i, in any top-level domain (kind ``confusable``);
- it carries the provider's whole domain as a subdomain of a foreign one
  (``vigile.example.billing-portal.net``, kind ``embedded``).

The registrable domain (``mail.vigile.co.uk`` -> ``vigile.co.uk``) comes from the public
suffix list shipped by ``publicsuffixlist`` (no network). Permutations are computed once
per set of provider domains and kept (a domain of 20 letters has about 30,000).
"""

from __future__ import annotations

import socket
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import import_module
from importlib.resources import files
from typing import Any

import idna
from publicsuffixlist import PublicSuffixList

from vigile.respond import username_keys

__all__ = ["PHISHING_WORDS", "Lookalike", "ProviderDomains", "normalize_domain"]

#: Words phishing domains add to a brand (dnstwist's ``dictionary`` fuzzer), English and
#: French.
PHISHING_WORDS: tuple[str, ...] = (
    "account",
    "billing",
    "factures",
    "facturation",
    "invoice",
    "login",
    "pay",
    "payment",
    "paiement",
    "portal",
    "secure",
    "security",
    "support",
    "verify",
)
_MAX_DOMAIN = 253  # RFC 1035


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


@cache
def _top_level_domains() -> tuple[str, ...]:
    """Every single-label rule of the public suffix list the package ships
    (``public_suffix_list.dat``, read in the list's own documented format: a rule a line,
    ``//`` comments, ``!`` exceptions and ``*`` wildcards left out), in ASCII (IDNA)."""
    text = files("publicsuffixlist").joinpath("public_suffix_list.dat").read_text("utf-8")
    labels = set()
    for line in text.splitlines():
        rule = line.split()[0] if line.strip() else ""
        if not rule or rule.startswith(("//", "!", "*")) or "." in rule:
            continue
        ascii_rule = normalize_domain(rule + ".x")  # IDNA for the label, checked whole
        if ascii_rule is not None:
            labels.add(ascii_rule.removesuffix(".x"))
    return tuple(sorted(labels))


def normalize_domain(domain: str) -> str | None:
    """``domain`` in ASCII (IDNA), lower-cased, without a final dot; ``None`` when it is
    no domain at all (empty, too long, not encodable)."""
    cleaned = domain.strip().rstrip(".").lower()
    if not cleaned or len(cleaned) > _MAX_DOMAIN or "." not in cleaned:
        return None
    if cleaned.isascii():
        return cleaned
    try:
        return idna.encode(cleaned, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        # Not valid IDNA (mixed scripts IDNA refuses): keep the Unicode form; it can
        # still be compared by its confusable skeleton.
        return unicodedata.normalize("NFKC", cleaned)


def _unicode(domain: str) -> str:
    if "xn--" not in domain:
        return domain
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError, ValueError):
        return domain


@dataclass(frozen=True, kw_only=True, slots=True)
class Lookalike:
    """A domain that imitates one of the provider's, and how."""

    domain: str
    imitates: str
    kind: str

    def explain(self) -> str:
        shown = _unicode(self.domain)
        spelled = f"{shown} ({self.domain})" if shown != self.domain else shown
        return f"{spelled} imitates {self.imitates} ({_KINDS.get(self.kind, self.kind)})"


_KINDS: Mapping[str, str] = {
    "addition": "a letter added at the end",
    "bitsquatting": "one bit of a letter flipped",
    "cyrillic": "Latin letters replaced by Cyrillic ones",
    "homoglyph": "letters replaced by look-alike characters",
    "hyphenation": "a hyphen inserted",
    "insertion": "a letter inserted",
    "omission": "a letter left out",
    "plural": "made plural",
    "repetition": "a letter doubled",
    "replacement": "a letter replaced by a neighbour on the keyboard",
    "subdomain": "a dot inserted",
    "transposition": "two letters swapped",
    "vowel-swap": "a vowel swapped",
    "various": "the top-level domain moved into the name",
    "dictionary": "a word added to the name",
    "tld-swap": "another top-level domain",
    "confusable": "Unicode characters that look the same",
    "embedded": "the provider's domain used as a subdomain of a foreign one",
}


class ProviderDomains:
    """The provider's domains and every permutation of them; build with :meth:`of`."""

    def __init__(self, domains: Iterable[str]) -> None:
        own = [d for d in (normalize_domain(x) for x in domains) if d]
        self.domains: tuple[str, ...] = tuple(dict.fromkeys(own))
        self.registrable: frozenset[str] = frozenset(registrable(d) for d in self.domains)
        self._permutations = _permutations(tuple(sorted(self.registrable)))
        self._skeletons = {_skeleton_of(d): d for d in self.registrable}
        self._lookalike = lru_cache(maxsize=4096)(self._judge)

    @staticmethod
    @cache
    def of(domains: tuple[str, ...]) -> ProviderDomains:
        """The (cached) provider domains for ``domains``."""
        return ProviderDomains(domains)

    def owns(self, domain: str) -> bool:
        """Is ``domain`` (or the domain it is a subdomain of) the provider's?"""
        normal = normalize_domain(domain)
        return normal is not None and registrable(normal) in self.registrable

    def lookalike(self, domain: str) -> Lookalike | None:
        """How ``domain`` imitates a provider domain, or ``None`` (the provider's own
        domains, and unrelated ones). Answers are kept for the last few thousand
        domains: the same senders and link hosts come back message after message."""
        return self._lookalike(domain)

    def _judge(self, domain: str) -> Lookalike | None:
        normal = normalize_domain(domain)
        if normal is None or registrable(normal) in self.registrable:
            return None
        labels = normal.split(".")
        for start in range(len(labels) - 1):  # the domain, then each parent domain
            found = self._permutations.get(".".join(labels[start:]))
            if found is not None:
                return Lookalike(domain=normal, imitates=found[0], kind=found[1])
        imitated = self._skeletons.get(_skeleton_of(registrable(normal)))
        if imitated is not None:
            return Lookalike(domain=normal, imitates=imitated, kind="confusable")
        for own in self.registrable:
            if f".{own}." in f".{normal}":
                return Lookalike(domain=normal, imitates=own, kind="embedded")
        return None


def registrable(domain: str) -> str:
    """The registrable domain (public suffix plus one label); the domain itself when the
    public suffix list has no answer (a bare suffix)."""
    found: str | None = _psl().privatesuffix(domain)
    return found or domain


def _skeleton_of(domain: str) -> str:
    """The registrable label through the confusables (the top-level domain left out:
    ``vig\u0456le.com`` imitates ``vigile.example`` as well)."""
    label = _unicode(domain).split(".", 1)[0]
    return min(username_keys(label))


# A permutation several fuzzers make is named by the most telling one, the same every run
# (dnstwist hands them over as a set).
_PRECEDENCE = {
    kind: rank
    for rank, kind in enumerate(
        (
            "cyrillic",
            "homoglyph",
            "bitsquatting",
            "plural",
            "vowel-swap",
            "transposition",
            "omission",
            "repetition",
            "hyphenation",
            "replacement",
            "insertion",
            "addition",
            "subdomain",
            "dictionary",
            "tld-swap",
            "various",
        )
    )
}


@cache
def _dnstwist() -> Any:
    """dnstwist, imported when first needed, without its import's side effect: it sets the
    process's default socket timeout (12 s), which would cut any long-lived connection
    made afterwards without a timeout of its own (Spark's, a client's). The timeout the
    process had is put back."""
    before = socket.getdefaulttimeout()
    try:
        return import_module("dnstwist")
    finally:
        socket.setdefaulttimeout(before)


@cache
def _permutations(domains: tuple[str, ...]) -> Mapping[str, tuple[str, str]]:
    """Every dnstwist permutation of ``domains`` -> (the domain it imitates, the kind)."""
    found: dict[str, tuple[str, str]] = {}
    for domain in domains:
        fuzzer = _dnstwist().Fuzzer(
            domain, dictionary=list(PHISHING_WORDS), tld_dictionary=list(_top_level_domains())
        )
        fuzzer.generate()
        ordered = sorted(
            fuzzer.domains, key=lambda p: (_PRECEDENCE.get(p["fuzzer"], 99), p["domain"])
        )
        for permutation in ordered:
            name, kind = permutation["domain"], permutation["fuzzer"]
            if kind != "*original" and name not in domains:
                found.setdefault(name, (domain, kind))
    return found
