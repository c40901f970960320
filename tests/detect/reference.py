"""A slow, obvious computation of some features straight from activity-log records, to
check the feature SQL on small inputs (STYLE.md #9). Same definitions, no SQL: a ticket
justifies an access to its own customer by the agent it is assigned to at that time, or
within 15 minutes after (grace), unless it was closed more than 15 minutes before."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from vigile.model.times import parse_rfc3339, to_micros

HOUR = 3_600_000_000
GRACE = 15 * 60 * 1_000_000
HISTORY = 7 * 24 * HOUR
SENSITIVE = {"government", "enterprise"}

Key = tuple[str, int]


def _us(record: dict[str, Any]) -> int:
    return to_micros(parse_rfc3339(record["time"]))


_WEBMAIL = {"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com"}


def _organisations(records: list[dict[str, Any]]) -> dict[str, str]:
    """Customer to organisation: the root of its ``parent`` links, else the first of the
    customers sharing its name's first word, country and contacts' (non-webmail) domain."""
    customers = {r["id"]: r for r in records if r["kind"] == "customer"}
    domains: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if r["kind"] == "contact" and "@" in (r.get("email") or ""):
            domains[r["customer"]].append(r["email"].rsplit("@", 1)[1].lower())

    def root(ident: str) -> str:
        seen = [ident]
        while (up := customers[seen[-1]].get("parent")) in customers and up not in seen:
            seen.append(up)
        return seen[-1]

    first: dict[tuple[str, str, str], str] = {}
    found = {}
    for ident in sorted(customers, key=lambda i: (root(i) != i, i)):
        top = root(ident)
        if top != ident:
            found[ident] = found[top]
            continue
        words = re.findall(r"[0-9a-z]+", (customers[ident].get("name") or "").lower())
        mails = sorted(domains[ident], key=lambda d: (-domains[ident].count(d), d))
        country = customers[ident].get("country")
        if words and len(words[0]) >= 3 and country and mails and mails[0] not in _WEBMAIL:
            found[ident] = first.setdefault((words[0], country.upper(), mails[0]), ident)
        else:
            found[ident] = ident
    return found


class _Tickets:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.customer: dict[str, str] = {}
        self.closed: dict[str, int] = {}
        self.steps: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for r in sorted((r for r in records if r["kind"] == "ticket"), key=_us):
            if r["event"] == "opened":
                self.customer.setdefault(r["ticket"], r["customer"])
            elif r["event"] == "closed":
                self.closed.setdefault(r["ticket"], _us(r))
            elif r["event"] == "assigned":
                self.steps[r["ticket"]].append((_us(r), r["agent"]))
        self.organisation = _organisations(records)
        for steps in self.steps.values():
            steps.sort()

    def holder(self, ticket: str, when: int) -> str | None:
        """The assignee of ``ticket`` at ``when``: the latest assignment step so far."""
        held = [agent for at, agent in self.steps.get(ticket, []) if at <= when]
        return held[-1] if held else None

    def judge(self, access: dict[str, Any], teams: dict[str, str | None]) -> str:
        ticket, when, agent = access.get("ticket"), _us(access), access["agent"]
        if ticket is None:
            return "none"
        if ticket not in self.customer:
            return "unknown"
        ours, theirs = self.customer[ticket], access["customer"]
        if self.organisation.get(ours, ours) != self.organisation.get(theirs, theirs):
            return "other_customer"
        holder = self.holder(ticket, when)
        # Held (or, closed, last held) by a teammate: the team's work, except a reveal.
        teammate = (
            holder not in (None, agent)
            and teams.get(holder) == teams.get(agent)
            and access["action"] != "contact.reveal"
        )
        if ticket in self.closed and self.closed[ticket] < when - GRACE:
            return "team" if teammate else "closed"
        if agent not in (holder, self.holder(ticket, when + GRACE)):
            return "team" if teammate else "not_assigned"
        return "ok"


def access_features(records: list[dict[str, Any]]) -> dict[Key, dict[str, int]]:
    """Per (agent, hour): distinct customers by justification, denials, searches."""
    tickets = _Tickets(records)
    tiers = {r["id"]: r.get("tier") for r in records if r["kind"] == "customer"}
    teams = {
        r["id"]: r.get("team") or f"(no team) {r['id']}" for r in records if r["kind"] == "agent"
    }
    sets: dict[Key, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    counts: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in (r for r in records if r["kind"] == "access"):
        key = (r["agent"], _us(r) - _us(r) % HOUR)
        counts[key]["accesses"] += 1
        counts[key]["denied"] += r["outcome"] == "denied"
        if r["action"] == "customer.search":
            counts[key]["searches"] += 1
            counts[key]["search_results"] += len(r.get("results") or [])
            continue
        verdict = tickets.judge(r, teams)
        customer = r["customer"]
        sets[key]["customers"].add(customer)
        if tiers.get(customer) in SENSITIVE:
            sets[key]["sensitive_customers"].add(customer)
        if verdict not in ("ok", "team"):
            sets[key]["unjustified_customers"].add(customer)
        name = {"none": "no_ticket", "unknown": "other_ticket", "other_customer": "other_ticket",
                "closed": "closed_ticket", "not_assigned": "not_assigned"}.get(verdict)  # fmt: skip
        if name:
            sets[key][f"{name}_customers"].add(customer)
    for key, named in sets.items():
        for name, members in named.items():
            counts[key][name] = len(members)
    for key, values in _order_features(r for r in records if r["kind"] == "access").items():
        counts[key].update(values)
    for values in counts.values():
        values["denied_ratio"] = values["denied"] / values["accesses"]  # type: ignore[assignment]
        if values["customers"]:
            share = values["sensitive_customers"] / values["customers"]
            values["sensitive_share"] = share  # type: ignore[assignment]
    return {key: dict(values) for key, values in counts.items()}


def _numbered(lookup: object) -> tuple[str, int] | None:
    """A customer id or query's prefix and trailing number (its last nine digits at most)."""
    found = re.search(r"([0-9]{1,9})$", lookup) if isinstance(lookup, str) else None
    return (lookup[: found.start()], int(found.group(1))) if found else None


def _order_features(accesses: Iterable[dict[str, Any]]) -> dict[Key, dict[str, int]]:
    """Per (agent, hour): requests one or two ids on from the agent's previous request
    within the hour; sessions in use at once (one resumed within the hour after another's
    request, and that other)."""
    by_agent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(accesses, key=_us):  # stable: the log's order among equal times
        by_agent[r["agent"]].append(r)
    counts: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    together: dict[Key, set[str]] = defaultdict(set)
    for agent, rs in by_agent.items():
        last_use: dict[str, int] = {}
        for prev, r in zip([None, *rs], rs, strict=False):
            when = _us(r)
            key = (agent, when - when % HOUR)
            session = r.get("session")
            if prev is not None and _us(prev) >= when - HOUR:
                now, before = (
                    _numbered(x.get("query") if x["action"] == "customer.search" else x["customer"])
                    for x in (r, prev)
                )
                if now and before and now[0] == before[0] and 1 <= abs(now[1] - before[1]) <= 2:
                    counts[key]["sequential_requests"] += 1
                other = prev.get("session")
                if (
                    session
                    and other
                    and other != session
                    and last_use.get(session, -HOUR - 1) >= when - HOUR
                ):
                    together[key] |= {session, other}
            if session:
                last_use[session] = when
    for key, sessions in together.items():
        counts[key]["concurrent_sessions"] = len(sessions)
    return {key: dict(values) for key, values in counts.items()}


def _first_seen(signins: Iterable[dict[str, Any]], field: str) -> dict[tuple[str, str], int]:
    first: dict[tuple[str, str], int] = {}
    for r in signins:
        if r.get(field) is not None:
            first.setdefault((r["agent"], r[field]), _us(r))
    return first


def signin_features(records: list[dict[str, Any]]) -> dict[Key, dict[str, int]]:
    """Per (agent, hour): successful and failed sign-ins, new countries and devices."""
    events = sorted((r for r in records if r["kind"] in ("signin", "access")), key=_us)
    since: dict[str, int] = {}
    for r in events:
        since.setdefault(r["agent"], _us(r))
    ok = [r for r in events if r["kind"] == "signin" and r["outcome"] == "success"]
    countries, devices = _first_seen(ok, "country"), _first_seen(ok, "device")
    counts: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in (r for r in events if r["kind"] == "signin"):
        when = _us(r)
        key = (r["agent"], when - when % HOUR)
        if r["outcome"] != "success":
            counts[key]["failed_signins"] += 1
            continue
        counts[key]["signins"] += 1
        seasoned = since[r["agent"]] < when - HISTORY
        counts[key]["new_countries"] += (
            seasoned and countries.get((r["agent"], r.get("country"))) == when
        )
        counts[key]["new_devices"] += (
            seasoned and devices.get((r["agent"], r.get("device"))) == when
        )
    return {key: dict(values) for key, values in counts.items()}
