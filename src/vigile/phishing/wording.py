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


def fold(text: str) -> str:
    """Text for comparison: NFKC, accents removed, case-folded, whitespace single."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACE.sub(" ", bare.casefold())


@dataclass(frozen=True, slots=True)
class Phrases:
    """A family of phrases (English and French), matched on folded text."""

    name: str
    pattern: re.Pattern[str]

    def found(self, folded: str) -> tuple[str, ...]:
        """The phrases found (their text as written, folded), once each, at most five."""
        return tuple(dict.fromkeys(m.group(0) for m in self.pattern.finditer(folded)))[:5]


def _phrases(name: str, *patterns: str) -> Phrases:
    return Phrases(name, re.compile(r"\b(?:" + "|".join(patterns) + r")\b"))


#: Asking to pay elsewhere: new bank details, a changed account, a wire transfer.
PAYMENT_CHANGE = _phrases(
    "payment change",
    # English
    r"(?:our|new|updated|changed) (?:bank|banking) (?:details|account|information)",
    r"bank (?:details|account) (?:has|have) (?:changed|been updated)",
    r"(?:change|update|confirm|verify) (?:your|the) (?:payment|billing|bank) "
    r"(?:details|method|information|account)",
    r"new (?:iban|account number|remittance details)",
    r"wire (?:the|a|your)? ?(?:payment|transfer|funds)",
    r"pay (?:to|into) (?:the|our) new account",
    r"(?:outstanding|overdue|unpaid) (?:invoice|balance|payment)s?",
    # French
    r"(?:nouvelles?|nos) coordonnees bancaires",
    r"coordonnees bancaires (?:ont change|ont ete modifiees|a jour)",
    r"(?:nouveau|changement de|modification de|mise a jour de) (?:notre |votre )?rib",
    r"nouvel iban",
    r"(?:mettre a jour|modifier|confirmer|verifier) (?:vos|votre) "
    r"(?:coordonnees bancaires|moyen de paiement|informations de paiement)",
    r"(?:effectuer|proceder a) (?:un|le) virement",
    r"factures? (?:impayees?|en retard|en souffrance)",
)

#: Hurrying the reader: deadlines, threats of suspension, "act now".
URGENCY = _phrases(
    "urgency",
    # English
    r"urgent(?:ly)?",
    r"immediately",
    r"within (?:24|48|72) hours",
    r"act now",
    r"final (?:notice|reminder|warning)",
    r"(?:account|service|subscription) (?:will be|has been) (?:suspended|terminated|closed)",
    r"as soon as possible",
    r"today only",
    # French
    r"immediatement",
    r"sous (?:24|48|72) ?h(?:eures)?",
    r"dans les (?:24|48|72) (?:prochaines )?heures",
    r"dernier (?:rappel|avertissement|delai)",
    r"(?:compte|service|abonnement) (?:sera|a ete) (?:suspendu|resilie|ferme|bloque)",
    r"des que possible",
    r"sans delai",
)
