"""Containment: asking whoever controls agents' sessions to suspend one.

Detection does not import the broker: it talks to a :class:`ContainmentPort`. The
default, :class:`RecordedContainment`, records each request in ``detect_containment``
(append-only) for the broker, or an analyst, to act on; a broker registers its own port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy import Engine, insert, select

from vigile.detect.book import now_us
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["ContainmentPort", "ContainmentRequest", "RecordedContainment"]


@runtime_checkable
class ContainmentPort(Protocol):
    """Suspends an agent's sessions; returns what happened, in a word."""

    def suspend(self, agent: str, reason: str) -> str: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainmentRequest:
    """A containment request as recorded."""

    agent: str
    reason: str
    time_us: int
    outcome: str


class RecordedContainment:
    """The default port: records the request, suspends nothing by itself."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def suspend(self, agent: str, reason: str) -> str:
        """Record that ``agent`` should be suspended, and why."""
        with connect(self.engine) as conn, conn.begin():
            conn.execute(
                insert(t.detect_containment).values(
                    time_us=now_us(), agent=agent, reason=reason, outcome="requested"
                )
            )
        return "requested"

    def requests(self) -> list[ContainmentRequest]:
        """Every request recorded, oldest first."""
        table = t.detect_containment
        with connect(self.engine) as conn:
            rows = conn.execute(select(table).order_by(table.c.id)).mappings().all()
        return [
            ContainmentRequest(
                agent=r["agent"], reason=r["reason"], time_us=r["time_us"], outcome=r["outcome"]
            )
            for r in rows
        ]
