"""An incident's scope: whose activity, from where, and when.

A scope has four dimensions (agents, sessions, source addresses, devices) and a time
window, both ends inclusive. An access is in scope when it falls in the window and
matches every dimension that is not empty (any of its values): ``--agent A --ip X`` is
agent A's activity from address X. Devices are known from sign-ins, so a device stands
for the sessions it opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigile.model.times import format_rfc3339, parse_rfc3339
from vigile.respond.errors import InvalidScope

__all__ = ["Scope", "parse_time"]


def parse_time(text: str, name: str) -> datetime:
    """An RFC 3339 time given for ``name`` (``--since``), in UTC."""
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise InvalidScope(f"{name}: {exc}") from exc


def _clean(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


@dataclass(frozen=True, kw_only=True, slots=True)
class Scope:
    """Whose activity an incident covers, and when (both ends inclusive)."""

    since: datetime
    until: datetime
    agents: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("agents", "sessions", "ips", "devices"):
            object.__setattr__(self, name, _clean(getattr(self, name)))
        if not (self.agents or self.sessions or self.ips or self.devices):
            raise InvalidScope("a scope needs at least one agent, session, address or device")
        if self.until < self.since:
            raise InvalidScope(
                f"the window ends ({format_rfc3339(self.until)}) before it starts "
                f"({format_rfc3339(self.since)})"
            )

    def to_json(self) -> dict[str, Any]:
        """The scope as JSON (times in RFC 3339)."""
        return {
            "agents": list(self.agents),
            "sessions": list(self.sessions),
            "ips": list(self.ips),
            "devices": list(self.devices),
            "since": format_rfc3339(self.since),
            "until": format_rfc3339(self.until),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scope:
        """The scope :meth:`to_json` wrote."""
        return cls(
            since=parse_time(data["since"], "since"),
            until=parse_time(data["until"], "until"),
            agents=tuple(data.get("agents", ())),
            sessions=tuple(data.get("sessions", ())),
            ips=tuple(data.get("ips", ())),
            devices=tuple(data.get("devices", ())),
        )
