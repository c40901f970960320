"""The attacker's activity replayed through the access broker, the organisation's through
ingest, in time order.

A simulated activity log holds both: the benign events (the organisation at work) and
the attacker's, which ``truth.json`` lists. :func:`split_log` writes the benign events to
segment files cut at the start of each of the attacker's sittings, so that ingesting
segment *k*, then replaying sitting *k* through :class:`~vigile.broker.Broker` with its
clock at each event's time, stores the events about in the order they happened (the
ledger's order). :class:`AttackerReplay` turns each attacker event into the broker call a
person at the attacker's keyboard would make, and counts what the broker did.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from vigile.broker import (
    AccessDenied,
    Broker,
    InvalidBrokerRequest,
    LocalTokens,
    NotFound,
    Principal,
    Unauthenticated,
)
from vigile.broker.views import Shown
from vigile.model.times import from_micros, parse_rfc3339, to_micros

__all__ = ["AttackerReplay", "ReplayClock", "ReplayOutcome", "ReplayPlan", "Sitting", "split_log"]

_SITTING_GAP_US = 3_600_000_000  # an hour without the attacker starts a new sitting
_LISTS = {
    "contact.view": "contacts",
    "account.view": "accounts",
    "subscription.view": "subscriptions",
}
# A session first seen in an access (no sign-in) is a stolen live session: it carries the
# second factor of the sign-in it was stolen from.
_STOLEN_SESSION_MFA = "totp"
_SKIPPED = "not replayed"
_NO_ADDRESS = "0.0.0.0"  # noqa: S104 - an address to record, never one to listen on


@dataclass(frozen=True, kw_only=True, slots=True)
class Sitting:
    """The attacker's events of one sitting, in time order."""

    start_us: int
    events: tuple[dict[str, Any], ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayPlan:
    """Benign segments and attacker sittings: segment *k* comes before sitting *k*, and
    there is one segment more than sittings."""

    segments: tuple[Path, ...]
    sittings: tuple[Sitting, ...]
    benign_events: int

    @property
    def attacker_events(self) -> int:
        return sum(len(s.events) for s in self.sittings)


def split_log(activity: Path, attacker_ids: frozenset[str], folder: Path) -> ReplayPlan:
    """Split ``activity`` into benign segment files in ``folder`` and attacker sittings."""
    attacker = [r for r in _records(activity) if r.get("id") in attacker_ids]
    attacker.sort(key=lambda r: r["_us"])
    sittings = _sittings(attacker)
    starts = [s.start_us for s in sittings]
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"segment-{k:03d}.jsonl" for k in range(len(sittings) + 1)]
    outs = [path.open("wb") for path in paths]
    benign = 0
    try:
        with activity.open("rb") as source:
            for line in source:
                record = orjson.loads(line)
                if record.get("id") in attacker_ids:
                    continue
                if "time" not in record or record.get("kind") in _DIRECTORY:
                    targets = outs if record.get("kind") == "header" else outs[:1]
                else:
                    benign += 1
                    moment = to_micros(parse_rfc3339(record["time"]))
                    targets = [outs[bisect_right(starts, moment)]]
                for out in targets:
                    out.write(line if line.endswith(b"\n") else line + b"\n")
    finally:
        for out in outs:
            out.close()
    return ReplayPlan(segments=tuple(paths), sittings=sittings, benign_events=benign)


_DIRECTORY = frozenset({"header", "agent", "customer", "contact", "account", "subscription"})


def _records(activity: Path) -> Iterator[dict[str, Any]]:
    with activity.open("rb") as source:
        for line in source:
            record: dict[str, Any] = orjson.loads(line)
            if "time" in record and record.get("kind") not in _DIRECTORY:
                record["_us"] = to_micros(parse_rfc3339(record["time"]))
                yield record


def _sittings(events: Sequence[dict[str, Any]]) -> tuple[Sitting, ...]:
    """A new sitting at each sign-in, or after an hour without the attacker."""
    groups: list[list[dict[str, Any]]] = []
    for event in events:
        fresh = event.get("kind") == "signin" or (
            groups and event["_us"] - groups[-1][-1]["_us"] > _SITTING_GAP_US
        )
        if not groups or fresh:
            groups.append([])
        groups[-1].append(event)
    return tuple(Sitting(start_us=g[0]["_us"], events=tuple(g)) for g in groups)


class ReplayClock:
    """The broker's clock during a replay: the time of the event being replayed."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayOutcome:
    """What the broker did to the attacker."""

    agent: str
    events: int  # attacker events replayed
    signins_accepted: int
    signins_refused: int
    signin_refusals: tuple[tuple[str, int], ...]
    requests: int  # requests for customer data (searches included)
    allowed_masked: int  # allowed, sensitive fields masked (or names only, for a search)
    revealed: int  # allowed with data in clear (reveals, exports)
    denied: int
    not_replayed: int  # events that are no request to the broker (none in nobelium)
    deny_reasons: tuple[tuple[str, int], ...]  # most frequent first
    by_action: tuple[tuple[str, str, int], ...]  # (action, outcome, count)
    revealed_objects: tuple[tuple[str, str], ...]  # (customer, object) shown in clear
    customers_asked: int  # customers whose data the attacker asked for (not searches)
    sessions: tuple[str, ...]  # the broker's sessions of the attacker
    addresses: tuple[str, ...]
    first_us: int
    last_us: int

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "events": self.events,
            "signins": {
                "accepted": self.signins_accepted,
                "refused": self.signins_refused,
                "refusals": [{"reason": r, "count": n} for r, n in self.signin_refusals],
            },
            "requests": self.requests,
            "allowed_masked": self.allowed_masked,
            "revealed": self.revealed,
            "denied": self.denied,
            "not_replayed": self.not_replayed,
            "deny_reasons": [{"reason": r, "count": n} for r, n in self.deny_reasons],
            "by_action": [{"action": a, "outcome": o, "count": n} for a, o, n in self.by_action],
            "revealed_objects": [{"customer": c, "object": o} for c, o in self.revealed_objects],
            "customers_asked": self.customers_asked,
            "sessions": list(self.sessions),
            "addresses": list(self.addresses),
            "first": from_micros(self.first_us).isoformat() if self.first_us else None,
            "last": from_micros(self.last_us).isoformat() if self.last_us else None,
        }


@dataclass(kw_only=True, slots=True)
class _Tally:
    signins_accepted: int = 0
    signins_refused: int = 0
    events: int = 0
    allowed_masked: int = 0
    revealed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    signin_refusals: Counter[str] = field(default_factory=Counter)
    actions: Counter[tuple[str, str]] = field(default_factory=Counter)
    revealed_objects: set[tuple[str, str]] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    first_us: int = 0
    last_us: int = 0


class AttackerReplay:
    """Replays an attacker's events as calls on the broker, at each event's time."""

    def __init__(self, broker: Broker, clock: ReplayClock, agent: str) -> None:
        self.broker = broker
        self.clock = clock
        self.agent = agent
        self.tokens = LocalTokens(broker.settings)
        self._principals: dict[str, Principal | None] = {}  # simulated session -> broker's
        self._tally = _Tally()

    def play(self, sitting: Sitting, progress: Callable[[], None] | None = None) -> None:
        """Replay one sitting, event by event."""
        for event in sitting.events:
            self.clock.now = from_micros(event["_us"])
            tally = self._tally
            tally.events += 1
            tally.first_us = tally.first_us or event["_us"]
            tally.last_us = event["_us"]
            if event.get("ip"):
                tally.addresses.add(event["ip"])
            if event.get("kind") == "signin":
                self._sign_in(event)
            elif event.get("kind") == "access":
                self._request(event)
            if progress is not None:
                progress()

    def outcome(self) -> ReplayOutcome:
        """The counts so far."""
        t = self._tally
        sessions = sorted(p.session for p in self._principals.values() if p is not None)
        return ReplayOutcome(
            agent=self.agent,
            events=t.events,
            signins_accepted=t.signins_accepted,
            signins_refused=t.signins_refused,
            signin_refusals=tuple(t.signin_refusals.most_common()),
            requests=sum(n for (_, outcome), n in t.actions.items() if outcome != _SKIPPED),
            allowed_masked=t.allowed_masked,
            revealed=t.revealed,
            denied=sum(t.reasons.values()),
            not_replayed=sum(n for (_, outcome), n in t.actions.items() if outcome == _SKIPPED),
            deny_reasons=tuple(t.reasons.most_common()),
            by_action=tuple((a, o, n) for (a, o), n in sorted(t.actions.items())),
            revealed_objects=tuple(sorted(t.revealed_objects)),
            customers_asked=len(t.customers),
            sessions=tuple(sessions),
            addresses=tuple(sorted(t.addresses)),
            first_us=t.first_us,
            last_us=t.last_us,
        )

    def _sign_in(self, event: dict[str, Any]) -> None:
        if event.get("outcome") != "success":
            return  # refused by the identity provider: it never reaches the broker
        mfa = event.get("mfa")
        self._principals[event["session"]] = self._authenticate(
            event, None if mfa in (None, "none") else str(mfa)
        )

    def _authenticate(self, event: dict[str, Any], mfa: str | None) -> Principal | None:
        # Issued now (the token's expiry is checked against the real clock); the broker
        # records the sign-in at the replayed time.
        token = self.tokens.issue(
            self.agent, roles=frozenset({"agent"}), mfa=mfa, now=datetime.now(UTC)
        )
        try:
            principal = self.broker.authenticate(
                token, ip=event.get("ip") or _NO_ADDRESS, user_agent=event.get("user_agent")
            )
        except Unauthenticated as exc:
            self._tally.signins_refused += 1
            self._tally.signin_refusals[str(exc)] += 1
            return None
        self._tally.signins_accepted += 1
        return principal

    def _principal(self, event: dict[str, Any]) -> Principal | None:
        session = event.get("session") or ""
        if session not in self._principals:
            self._principals[session] = self._authenticate(event, _STOLEN_SESSION_MFA)
        return self._principals[session]

    def _request(self, event: dict[str, Any]) -> None:
        action = str(event.get("action"))
        principal = self._principal(event)
        if principal is None:
            self._count(action, "refused", "no broker session: the sign-in was refused")
            return
        if event.get("customer"):
            self._tally.customers.add(event["customer"])
        try:
            shown = self._call(principal, action, event)
        except AccessDenied as exc:
            self._count(action, "denied", exc.reason)
        except (NotFound, InvalidBrokerRequest, Unauthenticated) as exc:
            self._count(action, "denied", str(exc))
        else:
            if shown is None:
                self._tally.actions[(action, _SKIPPED)] += 1
                return
            clear = bool(set(shown.fields) & _SENSITIVE)
            self._tally.actions[(action, "revealed" if clear else "allowed masked")] += 1
            if clear:
                self._tally.revealed += 1
                self._tally.revealed_objects.add(
                    (str(event.get("customer")), str(event.get("object") or ""))
                )
            else:
                self._tally.allowed_masked += 1

    def _count(self, action: str, outcome: str, reason: str) -> None:
        self._tally.actions[(action, outcome)] += 1
        self._tally.reasons[reason] += 1

    def _call(self, principal: Principal, action: str, event: dict[str, Any]) -> Shown | None:
        """The broker call an attacker's event stands for (None: no such call)."""
        broker, customer = self.broker, str(event.get("customer") or "")
        ticket, reason = event.get("ticket"), str(event.get("reason") or "none")
        if action == "customer.search":
            broker.search(principal, str(event.get("query") or ""))
            return Shown(body=None, fields=("customer.name",))
        if action == "customer.view":
            return broker.view_customer(principal, customer, ticket=ticket, reason=reason)
        if action in _LISTS:
            what = _LISTS[action]
            return broker.view_list(principal, customer, what, ticket=ticket, reason=reason)
        if action == "export":
            return broker.export(principal, customer, ticket=ticket, reason=reason)
        target = self._revealed(action, customer, event)
        if target is None:
            return None
        return broker.reveal(
            principal, customer, object_id=target[0], field=target[1], ticket=ticket, reason=reason
        )

    def _revealed(
        self, action: str, customer: str, event: dict[str, Any]
    ) -> tuple[str, str] | None:
        """The object and field a reveal asks for in clear."""
        if action == "contact.reveal":
            return str(event.get("object") or ""), "contact.email"
        if action == "billing.view":  # the amounts billed: a subscription's, in clear
            subscriptions = self.broker.store.subscriptions_of(customer)
            return (subscriptions[0].id if subscriptions else ""), "subscription.monthly_amount"
        return None


_SENSITIVE = frozenset(
    {"contact.email", "contact.phone", "account.email", "subscription.monthly_amount"}
)
