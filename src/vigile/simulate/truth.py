"""What really happened in a simulation: ``truth.json``, the answer key for detection.

Workers collect, per day, the evidence each attack left (its events, addresses, sessions
and the customers it touched); the parent folds the days together and writes the file
atomically beside the activity log.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from vigile.errors import OutputError
from vigile.simulate.clock import rfc3339
from vigile.simulate.emit import DayLog
from vigile.simulate.threat import Attack

__all__ = ["Evidence", "TruthBook", "publish"]


@dataclass(kw_only=True, slots=True)
class Evidence:
    """The records one attack left, so far."""

    event_ids: list[tuple[int, str]] = field(default_factory=list)  # (time, id)
    addresses: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)  # whose data was returned
    listed: set[str] = field(default_factory=set)  # shown in search results

    @classmethod
    def of(cls, log: DayLog) -> Evidence:
        """The evidence in an attack's encoded records."""
        found = cls()
        for t, line in zip(log.times, log.lines, strict=True):
            record = orjson.loads(line)
            if record["kind"] == "ticket":  # a ticket the attack brought (prompt injection)
                continue
            found.event_ids.append((t, record["id"]))
            found.addresses.add(record["ip"])
            found.sessions.add(record["session"])
            if record.get("outcome") == "allowed" and record["kind"] == "access":
                if record["action"] == "customer.search":
                    found.listed.update(record["results"])
                else:
                    found.customers.add(record["customer"])
        return found

    def merge(self, other: Evidence) -> None:
        """Add ``other``'s findings to these."""
        self.event_ids.extend(other.event_ids)
        self.addresses |= other.addresses
        self.sessions |= other.sessions
        self.customers |= other.customers
        self.listed |= other.listed


class TruthBook:
    """Accumulates the evidence of a simulation's attacks, day after day."""

    def __init__(self, *, scenario: str, seed: int, attacks: tuple[Attack, ...]) -> None:
        self._scenario = scenario
        self._seed = seed
        self._attacks = attacks
        self._evidence = {a.number: Evidence() for a in attacks}

    def add(self, number: int, evidence: Evidence) -> None:
        """Fold one day's evidence of attack ``number`` in."""
        self._evidence[number].merge(evidence)

    def _attack(self, attack: Attack) -> dict[str, Any]:
        found = self._evidence[attack.number]
        found.event_ids.sort()
        times = [t for t, _ in found.event_ids]
        return {
            "agent": attack.agent.id,
            "shape": attack.shape,
            "window": {
                "start": rfc3339(times[0]) if times else None,
                "end": rfc3339(times[-1]) if times else None,
            },
            "event_ids": [i for _, i in found.event_ids],
            "addresses": sorted(found.addresses),
            "sessions": sorted(found.sessions),
            "customers": sorted(found.customers),
            "customers_listed": sorted(found.listed - found.customers),
            "events": len(found.event_ids),
        }

    def document(self, counts: dict[str, int]) -> dict[str, Any]:
        """The content of truth.json; ``counts`` summarise the whole log."""
        attacks = [self._attack(a) for a in self._attacks]
        return {
            "scenario": self._scenario,
            "seed": self._seed,
            "compromised_agents": sorted({a.agent.id for a in self._attacks}),
            "attacks": attacks,
            "summary": {
                **counts,
                "attacker_events": sum(a["events"] for a in attacks),
                "customers_exposed": len({c for a in attacks for c in a["customers"]}),
            },
        }


def publish(document: dict[str, Any], folder: Path) -> Path:
    """Write ``document`` to a hidden temporary file in ``folder``; returns its path.

    The caller renames it into place once the activity log is published, so neither file
    exists without the other.
    """
    try:
        fd, name = tempfile.mkstemp(prefix=".truth.json.", dir=folder)
        with os.fdopen(fd, "wb") as out:
            out.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        os.chmod(name, 0o644)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write truth.json: {exc.strerror}") from exc
    return Path(name)
