"""Velocity limits hold under parallel requests: a request keeps its place in the agent's
window from the check until its access is recorded, and gives it back when it is denied
or not recorded."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.broker.conftest import DIRECTORY, Clock, accesses, principal
from vigile.broker import AccessDenied, Broker, GrantStatus, Notifier
from vigile.broker.operations import approve_grant
from vigile.errors import StoreError
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store

A1, SUP = principal("a-1"), principal("sup-1", "supervisor")
SUPPORT = "customer_initiated_support"


@pytest.fixture
def limited(
    store: Store, broker_settings: Settings, clock: Clock
) -> Iterator[Callable[..., Broker]]:
    """A broker with the limits given (the directory recorded first)."""
    Recorder(store).record(DIRECTORY)
    opened: list[Broker] = []

    def make(**limits: int) -> Broker:
        broker = Broker(
            store,
            dataclasses.replace(broker_settings, **limits),
            clock=clock,
            notifier=Notifier([]),
        )
        opened.append(broker)
        return broker

    yield make
    for broker in opened:
        broker.close()


def _slow_commits(broker: Broker, seconds: float = 0.3) -> None:
    """Every commit waits first: parallel requests all reach their check before any of
    them is recorded (the window in which an unguarded limit gives way)."""
    recorder = broker.committer.recorder
    record = recorder.record_prepared

    def slow(prepared: Any) -> Any:
        time.sleep(seconds)
        return record(prepared)

    recorder.record_prepared = slow  # type: ignore[method-assign]


def _in_parallel(calls: list[Callable[[], object]]) -> list[bool]:
    """Run ``calls`` at once; which were allowed."""
    start = threading.Barrier(len(calls))
    allowed = [False] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            calls[index]()
            allowed[index] = True
        except AccessDenied:
            pass

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return allowed


def test_parallel_requests_cannot_all_pass_the_customer_limit(
    limited: Callable[..., Broker], store: Store
) -> None:
    broker = limited(broker_customers_per_hour=1)
    _slow_commits(broker)
    allowed = _in_parallel(
        [
            lambda customer=customer, ticket=ticket: broker.view_customer(
                A1, customer, ticket=ticket, reason=SUPPORT
            )
            for customer, ticket in (("c-1", "T-1"), ("c-2", "T-2"), ("c-3", "T-3"))
        ]
    )
    assert sum(allowed) == 1
    outcomes = sorted(row["outcome"] for row in accesses(store))
    assert outcomes == ["allowed", "denied", "denied"]


def test_parallel_reveals_cannot_all_pass_the_reveal_limit(
    limited: Callable[..., Broker],
) -> None:
    broker = limited(broker_reveals_per_hour=1)
    _slow_commits(broker)

    def reveal() -> object:
        return broker.reveal(
            A1, "c-1", object_id="k-1", field="contact.email", ticket="T-1", reason=SUPPORT
        )

    assert sum(_in_parallel([reveal, reveal, reveal])) == 1


def test_a_denied_or_unrecorded_request_gives_its_place_back(
    limited: Callable[..., Broker], monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = limited(broker_customers_per_hour=1)
    with pytest.raises(AccessDenied):  # no ticket: denied, not counted
        broker.view_customer(A1, "c-3", ticket=None, reason=SUPPORT)

    def fail(prepared: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(broker.committer.recorder, "record_prepared", fail)
    with pytest.raises(StoreError):  # not recorded: not answered, not counted
        broker.view_customer(A1, "c-2", ticket="T-2", reason=SUPPORT)
    monkeypatch.undo()
    broker.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)  # the one place is free
    with pytest.raises(AccessDenied) as denied:  # and now taken
        broker.view_customer(A1, "c-2", ticket="T-2", reason=SUPPORT)
    assert "velocity-limit" in denied.value.policies


def test_a_velocity_suspension_revokes_the_agents_grants(
    limited: Callable[..., Broker], clock: Clock
) -> None:
    broker = limited(broker_customers_per_hour=1, broker_velocity_suspend=1)
    grant = broker.request_grant(
        A1, "c-2", classes=("contact",), duration=timedelta(hours=1), reason=SUPPORT, ticket=None
    )
    approve_grant(broker, SUP, grant.id)
    broker.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)
    with pytest.raises(AccessDenied):
        broker.view_customer(A1, "c-3", ticket="T-3", reason=SUPPORT)
    assert broker.containment.suspension_of("a-1") is not None
    [held] = broker.grants.history(agent="a-1")
    assert held.status is GrantStatus.REVOKED  # nothing comes back on resume


def test_two_broker_processes_on_one_store_share_the_customer_limit(
    limited: Callable[..., Broker], store: Store
) -> None:
    # Two brokers on one store (two `vigile serve` processes, or replicas on PostgreSQL):
    # each counts what the other recorded, so an agent cannot get twice the limit.
    first, second = limited(broker_customers_per_hour=2), limited(broker_customers_per_hour=2)
    first.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)  # first sees a-1 here
    second.view_customer(A1, "c-2", ticket="T-2", reason=SUPPORT)
    first.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)  # a customer already counted
    with pytest.raises(AccessDenied) as denied:  # a third, after one through the other
        first.view_customer(A1, "c-3", ticket="T-3", reason=SUPPORT)
    assert "velocity-limit" in denied.value.policies
    with pytest.raises(AccessDenied):
        second.view_customer(A1, "c-3", ticket="T-3", reason=SUPPORT)


def test_two_broker_processes_share_the_reveal_limit_and_count_each_reveal_once(
    limited: Callable[..., Broker],
) -> None:
    first, second = limited(broker_reveals_per_hour=3), limited(broker_reveals_per_hour=3)

    def reveal(broker: Broker) -> object:
        return broker.reveal(
            A1, "c-1", object_id="k-1", field="contact.email", ticket="T-1", reason=SUPPORT
        )

    reveal(first)  # counted by first in memory, then read back from the store: once
    reveal(second)
    reveal(first)  # the third: first has counted its own two once each, and second's
    with pytest.raises(AccessDenied):
        reveal(second)
    with pytest.raises(AccessDenied):
        reveal(first)


def test_a_process_counts_its_own_accesses_once_however_reads_interleave(
    limited: Callable[..., Broker],
) -> None:
    # Reading the store back (every request does) must not count this process's own
    # accesses again: with a limit of 3, three reveals are allowed, one by one.
    broker = limited(broker_reveals_per_hour=3)
    for _ in range(3):
        broker.reveal(
            A1, "c-1", object_id="k-1", field="contact.email", ticket="T-1", reason=SUPPORT
        )
    with pytest.raises(AccessDenied):
        broker.reveal(
            A1, "c-1", object_id="k-1", field="contact.email", ticket="T-1", reason=SUPPORT
        )
