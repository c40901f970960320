"""Folding text for comparison: the fast path for ASCII gives what the rule says."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from vigile.phishing.wording import fold

_SPACE = re.compile(r"\s+")


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_text_folds_as_the_rule_says(text: str) -> None:
    assert fold(text) == _SPACE.sub(" ", text.lower())


def test_folding_keeps_accents_out_and_spaces_single() -> None:
    assert fold("Coordonnées\u00a0 BANCAIRES\tà jour") == "coordonnees bancaires a jour"
    assert fold("Already folded text") == "already folded text"
