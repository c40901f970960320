"""A normal day at the support desk looks like one: justified views, tickets, sessions, noise."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.simulate.sample import Simulated
from vigile.simulate.geography import COUNTRIES

VIEWS = {
    "customer.view",
    "contact.view",
    "contact.reveal",
    "account.view",
    "subscription.view",
    "billing.view",
}


def _tickets(sim: Simulated) -> dict[str, dict[str, Any]]:
    tickets: dict[str, dict[str, Any]] = defaultdict(dict)
    for step in sim.of_kind("ticket"):
        ticket = tickets[step["ticket"]]
        ticket[step["event"]] = step["time"]
        ticket.update({k: step[k] for k in ("customer", "agent") if k in step})
    return tickets


def _justified(access: dict[str, Any], tickets: dict[str, dict[str, Any]]) -> bool:
    ticket = tickets.get(access["ticket"] or "")
    return (
        ticket is not None
        and ticket["customer"] == access["customer"]
        and ticket["agent"] == access["agent"]
        and ticket["assigned"] <= access["time"] <= ticket["closed"]
    )


def test_every_view_is_justified_by_an_open_ticket_or_is_a_review(baseline: Simulated) -> None:
    tickets = _tickets(baseline)
    views = [a for a in baseline.of_kind("access") if a["action"] in VIEWS]
    reviews = [v for v in views if v["reason"] == "agent_initiated_review"]
    unjustified = [v for v in views if v not in reviews and not _justified(v, tickets)]
    assert unjustified == []
    assert all(r["ticket"] is None for r in reviews)
    assert 0.01 <= len(reviews) / len(baseline.of_kind("access")) <= 0.03


def test_tickets_are_opened_then_assigned_then_closed(baseline: Simulated) -> None:
    for ticket in _tickets(baseline).values():
        assert ticket["opened"] < ticket["assigned"] < ticket["closed"]


def test_tickets_go_to_agents_of_a_fitting_tier(baseline: Simulated) -> None:
    tiers = {a["id"]: a["tier"] for a in baseline.of_kind("agent")}
    customer_tier = {c["id"]: c["tier"] for c in baseline.of_kind("customer")}
    for ticket in _tickets(baseline).values():
        if customer_tier[ticket["customer"]] == "government":
            assert tiers[ticket["agent"]] >= 2


def test_sign_in_comes_before_any_access_in_its_session(baseline: Simulated) -> None:
    opened = {
        s["session"]: s["time"] for s in baseline.of_kind("signin") if s["outcome"] == "success"
    }
    for access in baseline.of_kind("access"):
        assert opened[access["session"]] < access["time"]


def test_agents_sign_in_around_the_start_of_their_shift(baseline: Simulated) -> None:
    agents = {a["id"]: a for a in baseline.of_kind("agent")}
    first: dict[tuple[str, str], str] = {}
    for s in baseline.of_kind("signin"):
        first.setdefault((s["agent"], s["time"][:10]), s["time"])
    late = 0
    for (agent_id, _), time in first.items():
        agent = agents[agent_id]
        when = datetime.fromisoformat(time).astimezone(ZoneInfo(agent["timezone"]))
        start = datetime.strptime(agent["shift"]["start"], "%H:%M").time()
        gap = abs(when.hour * 60 + when.minute - (start.hour * 60 + start.minute))
        late += min(gap, 24 * 60 - gap) > 30
    assert late / len(first) < 0.05


def test_honest_noise_is_there(baseline: Simulated) -> None:
    signins = baseline.of_kind("signin")
    accesses = baseline.of_kind("access")
    assert any(s["outcome"] == "failure" for s in signins)
    assert any(a["outcome"] == "denied" and a["deny_reason"] for a in accesses)
    home = {a["id"]: a["country"] for a in baseline.of_kind("agent")}
    assert any(s["country"] != home[s["agent"]] for s in signins), "travel"
    per_day = Counter((s["agent"], s["time"][:10]) for s in signins if s["outcome"] == "success")
    assert max(per_day.values()) >= 2, "a second sign-in after a break"
    region = {a["id"]: a["team"].split("-")[1] for a in baseline.of_kind("agent")}
    served = {c["id"]: COUNTRIES[c["country"]].region for c in baseline.of_kind("customer")}
    covered = [
        t for t in _tickets(baseline).values() if served[t["customer"]] != region[t["agent"]]
    ]
    assert 0 < len(covered) < 0.1 * len(_tickets(baseline)), "covering another region's queue"
    days = Counter(agent for agent, _ in per_day)
    pace = sorted(n / days[agent] for agent, n in Counter(a["agent"] for a in accesses).items())
    assert pace[-1] > 1.5 * pace[len(pace) // 2], "heavy but legitimate workloads"


def test_contacts_are_masked_unless_revealed(baseline: Simulated) -> None:
    for access in baseline.of_kind("access"):
        if access["action"] == "contact.view":
            assert access["fields"] == ["contact.name", "contact.role"]
            assert access["masked_fields"] == ["contact.email", "contact.phone"]
        if access["action"] == "contact.reveal" and access["outcome"] == "allowed":
            assert "contact.email" in access["fields"]


def test_searches_list_the_customer_the_ticket_is_about(baseline: Simulated) -> None:
    tickets = _tickets(baseline)
    for search in baseline.of_kind("access"):
        if search["action"] == "customer.search" and search["ticket"]:
            assert tickets[search["ticket"]]["customer"] in search["results"]


def test_sessions_and_devices_stay_with_their_agent(baseline: Simulated) -> None:
    owner: dict[str, str] = {}
    for s in baseline.of_kind("signin"):
        assert owner.setdefault(s["session"], s["agent"]) == s["agent"]
    for a in baseline.of_kind("access"):
        assert owner[a["session"]] == a["agent"]


def test_events_stay_within_the_period_give_or_take_a_timezone(baseline: Simulated) -> None:
    start = datetime.combine(baseline.config.start, datetime.min.time(), UTC)
    end = start + timedelta(days=baseline.config.days)
    times = [datetime.fromisoformat(r["time"]) for r in baseline.records if "time" in r]
    # Shifts in Sydney start the previous UTC day; tickets may wait hours before that.
    assert start - timedelta(days=1) <= min(times) < start + timedelta(days=1)
    assert end - timedelta(days=1) < max(times) < end + timedelta(days=1)
