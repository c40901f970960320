"""Encoding simulated activity as activity-log records (docs/spec/activity-log.md).

An :class:`Emitter` belongs to one actor (an agent, or an attacker) for one day: it hands
out that actor's event ids, remembers the current session and address, and appends each
record to the day's output as ``(time, encoded line)`` so the day can be sorted by time
without decoding anything.

Accesses and ticket steps, nearly every record, are formatted from a template: their
values are identifiers and codes made by the simulator (letters, digits, ``-._:``), which
never need JSON escaping, and a template costs a fifth of a dict plus ``orjson.dumps``.
Sign-ins, and searches whose query holds anything JSON must escape, go through orjson.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import orjson

from vigile.simulate.clock import DAY, rfc3339
from vigile.simulate.clock import HMS as _HMS
from vigile.simulate.clock import PREFIX as _PREFIX
from vigile.simulate.keys import IdMint

__all__ = [
    "ACCOUNT",
    "BILLING",
    "CONTACT",
    "CUSTOMER",
    "REVEAL",
    "SEARCH",
    "SUBSCRIPTION",
    "DayLog",
    "Emitter",
    "Place",
    "View",
]


class DayLog:
    """A day's records as they are made: their times and encoded lines, side by side."""

    __slots__ = ("lines", "times")

    def __init__(self) -> None:
        self.times: list[int] = []
        self.lines: list[bytes] = []

    def __len__(self) -> int:
        return len(self.lines)

    def extend(self, other: DayLog) -> None:
        """Append ``other``'s records."""
        self.times.extend(other.times)
        self.lines.extend(other.lines)


_dumps = orjson.dumps
# Text a template may hold as is: nothing JSON would escape.
_PLAIN = re.compile(r"[ !#-\[\]-~]*\Z")
_NL = orjson.OPT_APPEND_NEWLINE


@dataclass(frozen=True, slots=True)
class View:
    """The data fields a kind of view returns in clear and masked."""

    fields: tuple[str, ...]
    masked: tuple[str, ...] = ()
    json: str = field(init=False, repr=False, compare=False)  # both lists, encoded once

    def __post_init__(self) -> None:
        encoded = f'"fields":{_dumps(self.fields).decode()},'
        encoded += f'"masked_fields":{_dumps(self.masked).decode()}'
        object.__setattr__(self, "json", encoded)


_NOTHING = View(())  # what a denied request returns
CUSTOMER = View(("customer.name", "customer.tier", "customer.country"))
CONTACT = View(("contact.name", "contact.role"), ("contact.email", "contact.phone"))
REVEAL = View(("contact.name", "contact.role", "contact.email", "contact.phone"))
ACCOUNT = View(("account.username",), ("account.email",))
SUBSCRIPTION = View(
    ("subscription.service", "subscription.plan", "subscription.seats",
     "subscription.monthly_amount"),
)  # fmt: skip
BILLING = View(("billing.invoices",), ("billing.address",))
SEARCH = View(("customer.name",))


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

    __slots__ = (
        "_ids", "_ip", "_line", "_n", "_session", "_time", "_via", "_who", "agent", "signins",
    )  # fmt: skip

    def __init__(self, log: DayLog, mint: IdMint, *, day: int, slot: int, agent: str) -> None:
        self._time = log.times.append
        self._line = log.lines.append
        self.signins = 0
        self._ids = mint.events(day, slot)
        self._n = 0
        self.agent = agent
        self._session = ""
        self._ip = ""
        self._who = ""  # '"agent":…,"session":…,"ip":…', rebuilt when session or ip change
        self._via = ""  # ',"via":{…}' when an AI agent calls through MCP; nothing for people

    @property
    def session(self) -> str:
        """The session the next records belong to."""
        return self._session

    @session.setter
    def session(self, session: str) -> None:
        self._session = session
        self._who = f'"agent":"{self.agent}","session":"{session}","ip":"{self._ip}"'

    @property
    def ip(self) -> str:
        """The address the next accesses come from."""
        return self._ip

    @ip.setter
    def ip(self, ip: str) -> None:
        self._ip = ip
        self._who = f'"agent":"{self.agent}","session":"{self._session}","ip":"{ip}"'

    def via(self, tool: str | None, conversation: str = "", on_behalf_of: str = "") -> None:
        """Mark the next accesses as made through ``vigile mcp``'s ``tool`` (None: not).

        As the broker records a tool call: ``extra.via`` holds the channel, the tool, the
        conversation and the human or queue it acts for (docs/ai-agents.md). The values
        are simulator-made identifiers, safe in the template without escaping.
        """
        if tool is None:
            self._via = ""
            return
        self._via = (
            f',"via":{{"channel":"mcp","tool":"{tool}","conversation":"{conversation}",'
            f'"on_behalf_of":"{on_behalf_of}"}}'
        )

    @property
    def ids(self) -> int:
        """How many event ids (sign-ins and accesses) this emitter handed out."""
        return self._n

    def next_id(self) -> str:
        """A fresh event id of this actor and day."""
        n = self._n
        self._n = n + 1
        return self._ids(n)

    def push(self, t: int, record: dict[str, object]) -> None:
        """Append ``record`` happening at ``t``."""
        # orjson returns its output in a page-sized allocation; a copy of the right size
        # keeps a day's worth of lines at a tenth of the memory (and is faster overall).
        self._time(t)
        self._line(bytes(memoryview(_dumps(record, option=_NL))))

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
        self.signins += 1
        self.push(t, record)

    def access(  # noqa: PLR0917  (the hot path: positional arguments are the cheapest)
        self,
        t: int,
        action: str,
        customer: str,
        view: View,
        ticket: str | None,
        reason: str,
        obj: str | None = None,
        deny: str | None = None,
    ) -> None:
        """A request for ``customer``'s data; denied when ``deny`` gives a reason."""
        # The hottest path of the simulator: one template, no further calls.
        n = self._n
        self._n = n + 1
        justification = "null" if ticket is None else f'"{ticket}"'
        if deny is None:
            tail = '"allowed"' if obj is None else f'"allowed","object":"{obj}"'
        else:
            view = _NOTHING
            tail = f'"denied","deny_reason":"{deny}"'
            tail = tail if obj is None else f'{tail},"object":"{obj}"'
        line = (
            f'{{"kind":"access","time":"{_PREFIX[t // DAY]}{_HMS[t % DAY]}",'
            f'"id":"{self._ids(n)}",{self._who},'
            f'"action":"{action}","customer":"{customer}",{view.json},'
            f'"ticket":{justification},"reason":"{reason}","outcome":{tail}{self._via}}}\n'
        )
        self._time(t)
        self._line(line.encode())

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
        more = "" if customer is None else f',"customer":"{customer}"'
        more += f',"event":"{step}"'
        if agent is not None:
            more += f',"agent":"{agent}"'
        if category is not None:
            more += f',"category":"{category}"'
        line = (
            f'{{"kind":"ticket","time":"{_PREFIX[t // DAY]}{_HMS[t % DAY]}",'
            f'"ticket":"{ticket}"{more}}}\n'
        )
        self._time(t)
        self._line(line.encode())

    def search(
        self, t: int, query: str, results: tuple[str, ...], ticket: str | None, reason: str
    ) -> None:
        """A customer search and the customers it listed."""
        if not _PLAIN.match(query):  # free text that JSON must escape: the general path
            self._search_record(t, query, results, ticket, reason)
            return
        n = self._n
        self._n = n + 1
        justification = "null" if ticket is None else f'"{ticket}"'
        listed = '"' + '","'.join(results) + '"' if results else ""
        line = (
            f'{{"kind":"access","time":"{_PREFIX[t // DAY]}{_HMS[t % DAY]}",'
            f'"id":"{self._ids(n)}",{self._who},"action":"customer.search",'
            f'"query":"{query}","results":[{listed}],{SEARCH.json},'
            f'"ticket":{justification},"reason":"{reason}","outcome":"allowed"{self._via}}}\n'
        )
        self._time(t)
        self._line(line.encode())

    def _search_record(
        self, t: int, query: str, results: tuple[str, ...], ticket: str | None, reason: str
    ) -> None:
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
                "fields": SEARCH.fields,
                "masked_fields": SEARCH.masked,
                "ticket": ticket,
                "reason": reason,
                "outcome": "allowed",
            },
        )
