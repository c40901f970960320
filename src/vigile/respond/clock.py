"""The regulatory clock of a personal-data breach (GDPR).

Art. 33: notify the supervisory authority without undue delay and, where feasible, within
72 hours of becoming aware of the breach. Art. 34: tell the people concerned without undue
delay when the breach is likely to result in a high risk to their rights and freedoms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigile.model.times import format_rfc3339

__all__ = ["ART33_DELAY", "RegulatoryClock"]

#: GDPR Art. 33(1): 72 hours from awareness to the supervisory authority.
ART33_DELAY = timedelta(hours=72)


@dataclass(frozen=True, kw_only=True, slots=True)
class RegulatoryClock:
    """Where an incident stands against the GDPR deadlines at ``now``."""

    aware: datetime
    now: datetime
    high_risk: bool | None

    @property
    def authority_deadline(self) -> datetime:
        """When the Art. 33 notification to the supervisory authority is due."""
        return self.aware + ART33_DELAY

    @property
    def remaining(self) -> timedelta:
        """Time left before the Art. 33 deadline (negative once it has passed)."""
        return self.authority_deadline - self.now

    @property
    def overdue(self) -> bool:
        return self.remaining < timedelta(0)

    @property
    def art34(self) -> str:
        """The Art. 34 position: people must be told, need not be, or not yet assessed."""
        if self.high_risk is None:
            return "not assessed"
        return "notify the people concerned" if self.high_risk else "no high risk recorded"

    def to_json(self) -> dict[str, Any]:
        return {
            "aware": format_rfc3339(self.aware),
            "art33_deadline": format_rfc3339(self.authority_deadline),
            "hours_remaining": round(self.remaining.total_seconds() / 3600, 1),
            "overdue": self.overdue,
            "art34_high_risk": self.high_risk,
            "art34": self.art34,
        }
