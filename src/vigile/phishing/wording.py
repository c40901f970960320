"""Wording that asks for money to go elsewhere, or hurries the reader: English and French.

Phrases are matched on the text folded for comparison (:func:`fold`: NFKC, accents
removed, case-folded, whitespace single), so ``Coordonnées bancaires`` and
``COORDONNEES  BANCAIRES`` meet the same pattern. Each pattern is a phrase a person
would write, not a single word: ``payment`` alone is in every honest invoice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["PAYMENT_CHANGE", "URGENCY", "Phrases", "fold"]

_SPACE = re.compile(r"\s+")
#: What ``\s+`` folds in ASCII text: two spaces, or any other ASCII whitespace.
_ASCII_RUNS = ("  ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(text: str) -> str:
    """Text for comparison: NFKC, accents removed, case-folded, whitespace single."""
    if text.isascii():  # most mail: nothing to normalise
        lowered = text.lower()
        # Text the parser already folded has no run to fold: a few substring searches
        # tell, at a twentieth of the regular expression's cost on a long message.
        if any(space in lowered for space in _ASCII_RUNS):
            return _SPACE.sub(" ", lowered)
        return lowered
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return _SPACE.sub(" ", _COMBINING.sub("", decomposed).casefold())


@dataclass(frozen=True, slots=True)
class Phrases:
    """A family of phrases (English and French), matched on folded text. Each phrase has
    anchors, words one of which it cannot do without: a phrase is looked for only in a
    text that holds an anchor, so a long newsletter costs a few substring searches, not
    a scan by every pattern."""

    name: str
    patterns: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]

    def found(self, folded: str) -> tuple[str, ...]:
        """The phrases found (their text as written, folded), once each, at most five."""
        matches = (
            m.group(0)
            for anchors, pattern in self.patterns
            if any(anchor in folded for anchor in anchors)
            for m in pattern.finditer(folded)
        )
        return tuple(dict.fromkeys(matches))[:5]


def _phrases(name: str, *patterns: tuple[str, str]) -> Phrases:
    """Phrases from ``(anchors, pattern)`` pairs; anchors separated by ``|``, one of them
    in every text the pattern matches."""
    return Phrases(
        name,
        tuple(
            (tuple(anchors.split("|")), re.compile(rf"\b(?:{pattern})\b"))
            for anchors, pattern in patterns
        ),
    )


#: Asking to pay elsewhere: new bank details, a changed account, a wire transfer.
PAYMENT_CHANGE = _phrases(
    "payment change",
    # English
    ("bank", r"(?:our|new|updated|changed) (?:bank|banking) (?:details|account|information)"),
    ("bank", r"bank (?:details|account) (?:has|have) (?:changed|been updated)"),
    (
        "payment|billing|bank",
        r"(?:change|update|confirm|verify) (?:your|the) (?:payment|billing|bank) "
        r"(?:details|method|information|account)",
    ),
    ("new ", r"new (?:iban|account number|remittance details)"),
    ("wire", r"wire (?:the|a|your)? ?(?:payment|transfer|funds)"),
    ("new account", r"pay (?:to|into) (?:the|our) new account"),
    ("outstanding|overdue|unpaid", r"(?:outstanding|overdue|unpaid) (?:invoice|balance|payment)s?"),
    # French
    ("coordonnees bancaires", r"(?:nouvelles?|nos) coordonnees bancaires"),
    ("coordonnees bancaires", r"coordonnees bancaires (?:ont change|ont ete modifiees|a jour)"),
    ("rib", r"(?:nouveau|changement de|modification de|mise a jour de) (?:notre |votre )?rib"),
    ("iban", r"nouvel iban"),
    (
        "vo",
        r"(?:mettre a jour|modifier|confirmer|verifier) (?:vos|votre) "
        r"(?:coordonnees bancaires|moyen de paiement|informations de paiement)",
    ),
    ("virement", r"(?:effectuer|proceder a) (?:un|le) virement"),
    ("facture", r"factures? (?:impayees?|en retard|en souffrance)"),
)

#: Hurrying the reader: deadlines, threats of suspension, "act now".
URGENCY = _phrases(
    "urgency",
    # English
    ("urgent", r"urgent(?:ly)?"),
    ("immediately", r"immediately"),
    ("within", r"within (?:24|48|72) hours"),
    ("act now", r"act now"),
    ("final", r"final (?:notice|reminder|warning)"),
    (
        " be",
        r"(?:account|service|subscription) (?:will be|has been) (?:suspended|terminated|closed)",
    ),
    ("as soon", r"as soon as possible"),
    ("today", r"today only"),
    # French
    ("immediatement", r"immediatement"),
    ("sous", r"sous (?:24|48|72) ?h(?:eures)?"),
    ("heures", r"dans les (?:24|48|72) (?:prochaines )?heures"),
    ("dernier", r"dernier (?:rappel|avertissement|delai)"),
    (
        "sera|a ete",
        r"(?:compte|service|abonnement) (?:sera|a ete) (?:suspendu|resilie|ferme|bloque)",
    ),
    ("des que", r"des que possible"),
    ("sans delai", r"sans delai"),
)
