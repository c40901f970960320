"""Lookalike domains: every fuzzer kind of dnstwist caught, for several shapes of provider
domain; hand-picked lookalikes; the provider's own domains and unrelated ones left alone."""

from __future__ import annotations

import random
import socket
import sys

import pytest

from vigile.phishing import ProviderDomains
from vigile.phishing.domains import PHISHING_WORDS, _dnstwist, normalize_domain, registrable

PROVIDERS = ("vigile.example", "cloudmail.co.uk", "pay-hub.com")
#: dnstwist's own fuzzer kinds (its Fuzzer.generate), less the original.
KINDS = (
    "addition",
    "bitsquatting",
    "cyrillic",
    "dictionary",
    "homoglyph",
    "hyphenation",
    "insertion",
    "omission",
    "plural",
    "repetition",
    "replacement",
    "subdomain",
    "tld-swap",
    "transposition",
    "various",
    "vowel-swap",
)


def _permutations(domain: str) -> dict[str, list[str]]:
    fuzzer = _dnstwist().Fuzzer(domain, dictionary=list(PHISHING_WORDS), tld_dictionary=["net"])
    fuzzer.generate()
    by_kind: dict[str, list[str]] = {}
    for permutation in fuzzer.domains:
        by_kind.setdefault(permutation["fuzzer"], []).append(permutation["domain"])
    return by_kind


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_dnstwist_kind_is_caught(provider: str) -> None:
    domains = ProviderDomains.of((provider,))
    by_kind = _permutations(provider)
    sample = random.Random(7)
    for kind in KINDS:
        names = sorted(set(by_kind.get(kind, [])) - {provider})
        for name in sample.sample(names, min(25, len(names))):
            found = domains.lookalike(name)
            assert found is not None, (kind, name)
            assert found.imitates == provider
            if registrable(name) != registrable(provider):
                # a permutation dnstwist makes several ways is named by one of them
                assert found.kind in KINDS


@pytest.mark.parametrize(
    ("domain", "kind"),
    [
        ("vigi1e.example", "homoglyph"),  # digit one for l
        ("vigiel.example", "transposition"),
        ("vigle.example", "omission"),
        ("viggile.example", "repetition"),
        ("vigile.com", "tld-swap"),
        ("vigile-billing.example", "dictionary"),
        ("login-vigile.example", "dictionary"),
        ("mail.vigiles.example", "addition"),  # a subdomain of the lookalike
        ("vigsile.example", "plural"),  # dnstwist's plural puts the s inside
        ("vig\u0456le.fr", "confusable"),  # Cyrillic i, another top-level domain
        ("VIG\u0399LE.org", "confusable"),  # Greek capital iota
        ("xn--vigle-p2e.net", "confusable"),  # the same, as punycode
        ("vigile.example.evil.net", "embedded"),
    ],
)
def test_hand_picked_lookalikes(domain: str, kind: str) -> None:
    found = ProviderDomains.of(("vigile.example",)).lookalike(domain)
    assert found is not None
    assert found.kind == kind


@pytest.mark.parametrize(
    "domain",
    [
        "vigile.example",
        "VIGILE.EXAMPLE.",
        "console.vigile.example",
        "example.org",
        "gmail.com",
        "ministry.example",
        "vigilant-security.org",
        "",
        "x" * 300 + ".com",
        "no-dot",
    ],
)
def test_own_and_unrelated_domains_are_not_lookalikes(domain: str) -> None:
    assert ProviderDomains.of(("vigile.example",)).lookalike(domain) is None


def test_registrable_domains_come_from_the_public_suffix_list() -> None:
    assert registrable("a.b.cloudmail.co.uk") == "cloudmail.co.uk"
    assert registrable("x.github.io") == "x.github.io"  # a private suffix of the list
    assert ProviderDomains.of(("cloudmail.co.uk",)).owns("smtp.eu.cloudmail.co.uk")


def test_normalize() -> None:
    assert normalize_domain(" Vig\u0456le.FR. ") == "xn--vigle-p2e.fr"
    assert normalize_domain("no-dot") is None


def test_the_permutations_leave_the_socket_timeout_alone() -> None:
    """dnstwist's import sets a 12 s default socket timeout; the guard puts it back, so a
    process that checks mail keeps its long-lived connections (Spark's, for one)."""
    socket.setdefaulttimeout(None)
    _dnstwist.cache_clear()
    sys.modules.pop("dnstwist", None)
    _dnstwist()
    assert socket.getdefaulttimeout() is None
