"""Everything a day's generator reads: the configuration's seed, the period, the organisation."""

from __future__ import annotations

from dataclasses import dataclass

from vigile.simulate.clock import Calendar
from vigile.simulate.keys import IdMint
from vigile.simulate.organisation import Organisation

__all__ = ["World"]


@dataclass(frozen=True, kw_only=True, slots=True)
class World:
    """The read-only context shared by every worker process."""

    seed: int
    calendar: Calendar
    org: Organisation
    mint: IdMint
