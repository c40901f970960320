"""Deterministic random streams and opaque identifiers.

Each stream is seeded from the configuration's seed and the coordinates of what it
generates (purpose, agent, day), so a day's records never depend on which worker process
made them or in which order. Identifiers pass through a bijective 64-bit mix: they are
unique by construction yet carry no visible order, agent or origin a detector could
exploit (a real system's ids would not either).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["IdMint", "Purpose", "stream"]

_MASK = (1 << 64) - 1
_TICKET = 0x71C7  # keeps ticket ids apart from event ids made from the same numbers


class Purpose(IntEnum):
    """Separate random streams for separate decisions."""

    ORGANISATION = 1
    PLAN = 2
    WORK = 3
    SCENARIO = 4
    ATTACK = 5


def stream(seed: int, purpose: Purpose, *coordinates: int) -> random.Random:
    """A random stream owned by ``purpose`` at ``coordinates`` (each in [0, 2**32))."""
    n = (seed << 8) | purpose
    for c in coordinates:
        n = (n << 32) | c
    return random.Random(n)


def _mix(x: int) -> int:
    # SplitMix64's finaliser: each step is invertible modulo 2**64, so no two inputs collide.
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@dataclass(frozen=True, kw_only=True, slots=True)
class IdMint:
    """Makes event, session and ticket ids from (day, actor slot, counter).

    A slot is an agent's index, or a number past the last agent for an attacker; each
    (day, slot) owns counters below 2**24, so ids never repeat in a file.
    """

    salt: int

    @classmethod
    def for_seed(cls, seed: int) -> IdMint:
        """The mint of a simulation: another seed gives unrelated-looking ids."""
        return cls(salt=_mix(seed & _MASK))

    def _key(self, kind: int, day: int, slot: int, n: int) -> int:
        return _mix(((day << 48) | (slot << 24) | n) ^ ((self.salt + kind) & _MASK))

    def event(self, day: int, slot: int, n: int) -> str:
        """The id of an event (sign-in or access)."""
        return f"e-{self._key(0, day, slot, n):016x}"

    def events(self, day: int, slot: int) -> Callable[[int], str]:
        """``event`` for one (day, slot), specialised: it runs once per event."""
        base = ((day << 48) | (slot << 24)) ^ (self.salt & _MASK)
        mask = _MASK

        def event(n: int) -> str:
            # _mix inlined; base ^ n equals the packed key because n < 2**24.
            x = base ^ n
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
            return f"e-{x ^ (x >> 31):016x}"

        return event

    def tickets(self, day: int, slot: int) -> Callable[[int], str]:
        """``ticket`` for one (day, slot), specialised like :meth:`events`."""
        base = ((day << 48) | (slot << 24)) ^ ((self.salt + _TICKET) & _MASK)
        mask = _MASK

        def ticket(n: int) -> str:
            x = base ^ n
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & mask
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & mask
            return f"T-{x ^ (x >> 31):016X}"

        return ticket

    def session(self, day: int, slot: int, n: int) -> str:
        """The id of a session."""
        return f"s-{self._key(0x5E55, day, slot, n):016x}"

    def ticket(self, day: int, slot: int, n: int) -> str:
        """The id of a ticket."""
        return f"T-{self._key(_TICKET, day, slot, n):016X}"

    def device(self, slot: int, n: int) -> str:
        """The id of a device (laptop) of an actor."""
        return f"d-{self._key(0xDE71CE, 0, slot, n):016x}"
