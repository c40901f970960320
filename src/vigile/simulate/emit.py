"""Encoding simulated activity as activity-log records (shared/spec/activity-log.md).

An :class:`Emitter` belongs to one actor (an agent, or an attacker) for one day: it hands
out that actor's event ids, remembers the current session and address, and appends each
record to the day's output as ``(time, encoded line)`` so the day can be sorted by time
without decoding anything. The field lists are shared constants: building a record is
one dict and one ``orjson.dumps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from vigile.simulate.clock import rfc3339
from vigile.simulate.keys import IdMint

__all__ = [
    "ACCOUNT",
    "BILLING",
    "CONTACT",
    "CUSTOMER",
    "REVEAL",
    "SEARCH",
    "SUBSCRIPTION",
    "Emitter",
    "Line",
    "Place",
]

Line = tuple[int, bytes]
"""One encoded record and its time, for sorting."""

_dumps = orjson.dumps
_NL = orjson.OPT_APPEND_NEWLINE

# (fields in clear, fields masked) of each kind of view.
CUSTOMER = (["customer.name", "customer.tier", "customer.country"], [])
CONTACT = (["contact.name", "contact.role"], ["contact.email", "contact.phone"])
REVEAL = (["contact.name", "contact.role", "contact.email", "contact.phone"], [])
ACCOUNT = (["account.username"], ["account.email"])
SUBSCRIPTION = (
    ["subscription.service", "subscription.plan", "subscription.seats",
     "subscription.monthly_amount"],
    [],
)  # fmt: skip
BILLING = (["billing.invoices"], ["billing.address"])
SEARCH = (["customer.name"], [])


@dataclass(frozen=True, kw_only=True, slots=True)
class Place:
    """Where a sign-in comes from: address, its geolocation, and the device used."""

    ip: str
    country: str
    lat: float
    lon: float
    device: str


class Emitter:
    """Encodes the events of one actor on one day."""

    __slots__ = ("_ids", "_n", "agent", "ip", "out", "session")

    def __init__(self, out: list[Line], mint: IdMint, *, day: int, slot: int, agent: str) -> None:
        self.out = out
        self._ids = mint.events(day, slot)
        self._n = 0
        self.agent = agent
        self.session = ""
        self.ip = ""

    def next_id(self) -> str:
        """A fresh event id of this actor and day."""
        n = self._n
        self._n = n + 1
        return self._ids(n)

    def push(self, t: int, record: dict[str, object]) -> None:
        """Append ``record`` happening at ``t``."""
        # orjson returns its output in a page-sized allocation; a copy of the right size
        # keeps a day's worth of lines at a tenth of the memory (and is faster overall).
        self.out.append((t, bytes(memoryview(_dumps(record, option=_NL)))))

    def signin(self, t: int, place: Place, *, user_agent: str, mfa: str, ok: bool = True) -> None:
        """A sign-in opening :attr:`session` from ``place``."""
        record: dict[str, object] = {
            "kind": "signin",
            "time": rfc3339(t),
            "id": self.next_id(),
            "agent": self.agent,
            "session": self.session,
            "outcome": "success" if ok else "failure",
            "ip": place.ip,
            "country": place.country,
            "lat": place.lat,
            "lon": place.lon,
            "device": place.device,
            "user_agent": user_agent,
            "mfa": mfa,
        }
        if not ok:
            record["failure_reason"] = "invalid_credentials"
        self.push(t, record)

    def access(
        self,
        t: int,
        action: str,
        customer: str,
        view: tuple[list[str], list[str]],
        ticket: str | None,
        reason: str,
        obj: str | None = None,
        deny: str | None = None,
    ) -> None:
        """A request for ``customer``'s data; denied when ``deny`` gives a reason."""
        record: dict[str, object] = {
            "kind": "access",
            "time": rfc3339(t),
            "id": self.next_id(),
            "agent": self.agent,
            "session": self.session,
            "ip": self.ip,
            "action": action,
            "customer": customer,
            "fields": view[0] if deny is None else [],
            "masked_fields": view[1] if deny is None else [],
            "ticket": ticket,
            "reason": reason,
            "outcome": "allowed" if deny is None else "denied",
        }
        if obj is not None:
            record["object"] = obj
        if deny is not None:
            record["deny_reason"] = deny
        self.push(t, record)

    def ticket_step(
        self,
        t: int,
        ticket: str,
        step: str,
        *,
        customer: str | None = None,
        agent: str | None = None,
        category: str | None = None,
    ) -> None:
        """One step of a ticket's life: ``opened``, ``assigned`` or ``closed``."""
        record: dict[str, object] = {"kind": "ticket", "time": rfc3339(t), "ticket": ticket}
        if customer is not None:
            record["customer"] = customer
        record["event"] = step
        if agent is not None:
            record["agent"] = agent
        if category is not None:
            record["category"] = category
        self.push(t, record)

    def search(
        self, t: int, query: str, results: tuple[str, ...], ticket: str | None, reason: str
    ) -> None:
        """A customer search and the customers it listed."""
        self.push(
            t,
            {
                "kind": "access",
                "time": rfc3339(t),
                "id": self.next_id(),
                "agent": self.agent,
                "session": self.session,
                "ip": self.ip,
                "action": "customer.search",
                "query": query,
                "results": results,
                "fields": SEARCH[0],
                "masked_fields": SEARCH[1],
                "ticket": ticket,
                "reason": reason,
                "outcome": "allowed",
            },
        )
