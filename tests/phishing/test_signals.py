"""Goldens for each signal, in English and French: tests/phishing/golden/*.eml, written by
hand; the expected verdict and signals below are worked out by hand from the weights in
vigile.phishing.signals (the sum is in each comment) and the watch list of
tests/phishing/data/incident.jsonl (ann@, bob@ and it@ministry.example, elodie@fromagerie
.example; Ann's customer had Compute Engine Enterprise at 12,450 USD seen in clear,
Elodie's had Cloud Storage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigile.phishing import Guard, ProviderDomains, WatchList

GOLDEN = Path(__file__).parent / "golden"

CASES: dict[str, tuple[str, set[str]]] = {
    # vigi1e: digit one for l (dnstwist homoglyph): 50
    "en-lookalike-sender": ("suspicious", {"lookalike-domain"}),
    # "Vigile Security Team" from mailer-blast.example: 35
    "en-display-name": ("suspicious", {"display-name"}),
    # from the provider, replies to freemail (30), bounces to bulk-sender (15): 45
    "en-reply-elsewhere": ("suspicious", {"reply-elsewhere", "return-path-elsewhere"}),
    # spf 15 + dkim 20 + dmarc 35 = 70
    "en-authentication": ("phishing", {"spf-fail", "dkim-fail", "dmarc-fail"}),
    # watched 10 + quotes Compute Engine, Enterprise, 12,450.00: 25 = 35
    "en-quoted-facts": ("suspicious", {"watched-recipient", "quoted-facts"}),
    # watched 10 + "our bank details", "wire the payment": 25 = 35
    "en-payment-change": ("suspicious", {"watched-recipient", "payment-change"}),
    # vigile.example.account-check.net (embedded): 40
    "en-lookalike-link": ("suspicious", {"lookalike-domain"}),
    # everything at once
    "en-targeted": (
        "phishing",
        {
            "watched-recipient",
            "lookalike-domain",
            "display-name",
            "reply-elsewhere",
            "spf-fail",
            "dmarc-fail",
            "quoted-facts",
            "payment-change",
            "urgency",
        },
    ),
    # the provider's domain, DMARC passed (-30), to a watched contact (10): 0
    "en-genuine": ("clean", {"watched-recipient", "provider-authenticated"}),
    # only the topmost Authentication-Results is believed: spf 15 + dmarc 35 = 50
    "en-forged-results": ("suspicious", {"spf-fail", "dmarc-fail"}),
    # watched 10 + nos coordonnees bancaires / nouveau RIB 25 + sous 48 heures 10
    # + Cloud Storage quoted 25 = 70
    "fr-payment-change": (
        "phishing",
        {"watched-recipient", "payment-change", "urgency", "quoted-facts"},
    ),
    # "Service facturation Vigile" from envoi-rapide.example: 35
    "fr-display-name": ("suspicious", {"display-name"}),
    # "immédiatement" alone: 10
    "fr-urgency": ("clean", {"urgency"}),
    # xn--vigle-p2e.fr is vig(Cyrillic i)le.fr: 40
    "fr-lookalike-link": ("suspicious", {"lookalike-domain"}),
    "fr-targeted": (
        "phishing",
        {
            "watched-recipient",
            "lookalike-domain",
            "display-name",
            "spf-fail",
            "dmarc-fail",
            "quoted-facts",
            "payment-change",
            "urgency",
        },
    ),
}


def test_every_golden_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.eml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(guard: Guard, name: str) -> None:
    verdict = guard.check((GOLDEN / f"{name}.eml").read_bytes())
    expected_verdict, expected_kinds = CASES[name]
    assert {s.kind for s in verdict.signals} == expected_kinds, verdict.to_json()
    assert verdict.verdict == expected_verdict, verdict.to_json()
    assert all(s.reason for s in verdict.signals)


def test_reasons_in_plain_words(guard: Guard) -> None:
    verdict = guard.check((GOLDEN / "fr-payment-change.eml").read_bytes())
    reasons = {s.kind: s.reason for s in verdict.signals}
    assert reasons["watched-recipient"].startswith("addressed to elodie@fromagerie.example")
    assert "Cloud Storage" in reasons["quoted-facts"]
    assert '"nouveau rib"' in reasons["payment-change"]
    assert '"sous 48 heures"' in reasons["urgency"]
    assert verdict.subject == "Changement de coordonnées bancaires"


def test_lookalike_reasons_name_the_kind(guard: Guard) -> None:
    verdict = guard.check((GOLDEN / "fr-lookalike-link.eml").read_bytes())
    (signal,) = verdict.signals
    assert signal.reason == (
        "the link domain vig\u0456le.fr (xn--vigle-p2e.fr) imitates vigile.example "
        "(Unicode characters that look the same)"
    )
    assert signal.evidence == ("xn--vigle-p2e.fr", "confusable")


def test_envelope_recipient(guard: Guard) -> None:
    raw = (GOLDEN / "en-lookalike-sender.eml").read_bytes()
    verdict = guard.check(raw, recipients=["IT@ministry.example"])
    assert "watched-recipient" in {s.kind for s in verdict.signals}


def test_believed_servers(watchlist: WatchList) -> None:
    trusting = Guard(
        provider=ProviderDomains.of(("vigile.example",)),
        authserv_ids=("mx.other.example",),
        watchlist=watchlist,
    )
    verdict = trusting.check((GOLDEN / "en-authentication.eml").read_bytes())
    assert verdict.signals == ()  # mx.unrelated.example is not believed


def test_only_the_configured_servers_results_are_read() -> None:
    """A configured server's header is read wherever it sits, the others never are (the
    guard skips them before parsing: a plain authserv-id that is not configured)."""
    raw = (
        b"Authentication-Results: mx.sender-wrote-this.example; dmarc=fail\r\n"
        b"Authentication-Results: mx.trusted.example; dmarc=fail header.from=vigile.example\r\n"
        b"Authentication-Results: (a comment) mx.trusted.example; spf=fail\r\n"
        b"From: Billing <billing@vigile.example>\r\nTo: ann@customer.example\r\n"
        b"Subject: Invoice\r\nMessage-ID: <1@vigile.example>\r\n\r\nHello.\r\n"
    )
    trusting = Guard(
        provider=ProviderDomains.of(("vigile.example",)), authserv_ids=("mx.trusted.example",)
    )
    kinds = sorted(s.kind for s in trusting.check(raw).signals)
    assert kinds == ["dmarc-fail", "spf-fail"]
    topmost = Guard(provider=ProviderDomains.of(("vigile.example",)))
    assert [s.kind for s in topmost.check(raw).signals] == ["dmarc-fail"]
    assert "sender-wrote-this" in topmost.check(raw).signals[0].reason
