"""The watch list, against known answers written by hand from tests/phishing/data/
incident.jsonl (each entry below follows from the accesses listed in its comment)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigile.ingest import ingest_file
from vigile.phishing import SeenSubscription, WatchList, build_watchlist
from vigile.respond import IncidentNotFound, Incidents, Remediation, Scope
from vigile.store import Store

DATA = Path(__file__).parent / "data" / "incident.jsonl"
NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
SCOPE = Scope(
    agents=("a-0017",),
    since=datetime(2021, 5, 20, tzinfo=UTC),
    until=datetime(2021, 5, 31, tzinfo=UTC),
)
C100_FIELDS = [
    "account.email",
    "account.username",
    "contact.email",
    "contact.name",
    "contact.role",
    "subscription.monthly_amount",
    "subscription.plan",
    "subscription.service",
]
COMPUTE = SeenSubscription(
    service="Compute Engine", plan="Enterprise", monthly_amount=12450.0, currency="USD"
)


def incident(store: Store) -> tuple[Incidents, str]:
    ingest_file(store, DATA)
    incidents = Incidents(store, clock=lambda: NOW)
    return incidents, incidents.open(title="Takeover", scope=SCOPE, actor="ana").id


def test_the_exposed_addresses_and_what_was_seen(store: Store) -> None:
    incidents, inc = incident(store)
    found = build_watchlist(incidents, [inc])
    # c-300's only access was denied (e-6): nothing of it is watched.
    assert [a.address for a in found] == [
        "ann@ministry.example",  # e-2 revealed contact.* of c-100: every contact of c-100
        "bob@ministry.example",
        "elodie@fromagerie.example",  # e-5 showed contact.email of c-200
        "it@ministry.example",  # e-4 showed account.email of u-100-1
    ]
    ann = found.get("ANN@ministry.example ")
    assert ann is not None
    assert ann.kind == "contact"
    assert ann.id == "k-100-1"
    assert ann.role == "billing"
    assert ann.customer == "c-100"
    assert ann.customer_name is None
    assert list(ann.fields) == C100_FIELDS
    assert ann.subscriptions == (COMPUTE,)  # e-3: service, plan and amount in clear
    assert ann.exposed == datetime(2021, 5, 20, 9, 32, tzinfo=UTC)  # e-2, the first
    elodie = found.get("elodie@fromagerie.example")
    assert elodie is not None
    assert elodie.customer_name == "Fromagerie Exemple SARL"  # e-5: customer.name
    # e-5 showed the service only; the amount was masked, so neither it nor the currency
    assert elodie.subscriptions == (
        SeenSubscription(service="Cloud Storage", plan=None, monthly_amount=None, currency=None),
    )
    assert found.get("zed@untouched.example") is None


def test_the_facts_a_phishing_message_would_quote(store: Store) -> None:
    incidents, inc = incident(store)
    ann = build_watchlist(incidents, [inc]).get("ann@ministry.example")
    assert ann is not None
    facts = ann.facts()
    assert {"Compute Engine", "Enterprise", "12450.00", "12,450.00", "12 450,00"} <= set(facts)
    assert {"12450", "12,450"} <= set(facts)  # a whole amount is also written bare


def test_a_renamed_account_stays_under_its_old_address(store: Store) -> None:
    incidents, inc = incident(store)
    Remediation(incidents).rename(
        inc, "u-100-1", username="ministry-ops", email="ops@ministry.example", actor="ana"
    )
    found = build_watchlist(incidents, [inc])
    old = found.get("it@ministry.example")
    assert old is not None
    assert old.status == "renamed"
    assert old.current_address == "ops@ministry.example"
    assert old.name == "ministry-it"  # the username the attacker saw
    assert found.get("ops@ministry.example") is None  # never exposed


def test_several_incidents_merge_per_address(store: Store) -> None:
    incidents, first = incident(store)
    later = Scope(
        agents=("a-0017",),
        since=datetime(2021, 5, 22, tzinfo=UTC),
        until=datetime(2021, 5, 31, tzinfo=UTC),
    )
    second = incidents.open(title="Second look", scope=later, actor="ana").id
    found = build_watchlist(incidents, [second, first])
    elodie = found.get("elodie@fromagerie.example")
    assert elodie is not None
    assert elodie.incidents == (second, first)
    assert found.get("ann@ministry.example").incidents == (first,)  # type: ignore[union-attr]
    only_second = build_watchlist(incidents, [second])
    assert [a.address for a in only_second] == ["elodie@fromagerie.example"]


def test_unknown_incident(store: Store) -> None:
    incidents, _ = incident(store)
    with pytest.raises(IncidentNotFound):
        build_watchlist(incidents, ["INC-9999"])


def _one(store: Store) -> WatchList:
    incidents, inc = incident(store)
    return build_watchlist(incidents, [inc])


def test_feed_lines(store: Store) -> None:
    feed = _one(store).to_feed().splitlines()
    assert feed[0].startswith("# ")
    assert "ann@ministry.example PREPEND X-Vigile-Watched: INC-0001" in feed
    assert all(line.startswith("#") or len(line.split(" ", 1)[0]) > 3 for line in feed)


def test_csv(store: Store) -> None:
    lines = _one(store).to_csv().split("\r\n")
    assert lines[0].startswith("address,kind,id,status,current_address,customer")
    assert lines[1].startswith("ann@ministry.example,contact,k-100-1,current,,c-100,,Ann")
    assert lines[1].endswith('"Compute Engine Enterprise, 12450 USD/month"')
