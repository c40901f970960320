"""A decision never uses entities older than the ones it was checked against.

An agent demoted to tier 1 must lose a government customer's contacts at once, also for
the requests that arrive while the entity set is being rebuilt: they wait for the new
set, they do not decide on the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import cedarpy
import pytest

from tests.broker.conftest import START, accesses, principal
from vigile.broker import AccessDenied, Broker
from vigile.model import Agent, TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.store import Store

SUPPORT = "customer_initiated_support"
GOVERNMENT_TICKET = [
    TicketEvent(id="TG/o", time=START, ticket="TG", event=TicketStep.OPENED, customer="c-gov"),
    TicketEvent(id="TG/a", time=START, ticket="TG", event=TicketStep.ASSIGNED, agent="a-1"),
]
LOCKBOX = "tier1-government-contacts-need-customer-approval"


def _view_government_contacts(broker: Broker, outcomes: list[str]) -> Callable[[], None]:
    def view() -> None:
        try:
            broker.view_list(principal("a-1"), "c-gov", "contacts", ticket="TG", reason=SUPPORT)
            outcomes.append("allowed")
        except AccessDenied:
            outcomes.append("denied")

    return view


def test_a_request_during_a_rebuild_waits_for_the_new_entities(
    broker: Broker, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    Recorder(store).record(GOVERNMENT_TICKET)
    outcomes: list[str] = []
    view = _view_government_contacts(broker, outcomes)
    view()  # a-1 is tier 2: allowed, and a-1 at tier 2 is in the entity set
    assert outcomes == ["allowed"]

    Recorder(store).record([Agent(id="a-1", tier=1, team="emea")])  # demoted
    parsing, release = threading.Event(), threading.Event()
    parse = broker.policy.entities._parse

    def slow_parse(entities: list[dict[str, object]]) -> cedarpy.Entities:
        parsing.set()
        assert release.wait(10)
        return parse(entities)

    monkeypatch.setattr(broker.policy.entities, "_parse", slow_parse)
    rebuilding = threading.Thread(target=view)
    rebuilding.start()
    assert parsing.wait(10)  # the first request after the demotion is rebuilding
    during = threading.Thread(target=view)
    during.start()
    during.join(0.5)  # before the fix it decided at once, on the old entity set
    release.set()
    rebuilding.join(10)
    during.join(10)

    assert outcomes == ["allowed", "denied", "denied"]
    decided = [(row["outcome"], row["extra"]) for row in accesses(store)[-2:]]
    assert all(outcome == "denied" and LOCKBOX in extra for outcome, extra in decided)
    assert broker.policy.entities.rebuilds == 1
