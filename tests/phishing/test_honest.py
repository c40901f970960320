"""Honest mail is never called phishing: CPython's email test messages (PSF licence,
tests/phishing/corpus/cpython) and a generated corpus of newsletters, invoices, replies
and the provider's own notices, some to the watched contacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.phishing.honest import honest_messages
from vigile.phishing import Guard

CPYTHON = sorted((Path(__file__).parent / "corpus" / "cpython").glob("msg_*.txt"))


def test_the_corpus_is_there() -> None:
    assert len(CPYTHON) == 48


@pytest.mark.parametrize("path", CPYTHON, ids=lambda p: p.name)
def test_cpython_messages(guard: Guard, path: Path) -> None:
    verdict = guard.check(path.read_bytes())
    assert verdict.verdict != "phishing", verdict.to_json()


def test_generated_honest_messages(guard: Guard) -> None:
    verdicts = {name: guard.check(raw) for name, raw in honest_messages(200)}
    above = {n: v.to_json() for n, v in verdicts.items() if v.verdict == "phishing"}
    assert not above
    # and most are plainly clean, not merely short of phishing
    clean = sum(v.verdict == "clean" for v in verdicts.values())
    assert clean >= 0.9 * len(verdicts)
