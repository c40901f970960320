"""The broker's recorder goes on from where its last commit left the ledger, and reads
the store again whenever someone else appended or signed in between."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.broker.conftest import START, principal
from vigile.broker import Broker
from vigile.errors import StoreError, StoreLocked
from vigile.ledger.service import Ledger
from vigile.ledger.verify_store import verify_ledger
from vigile.model import AuditEvent, TicketEvent, TicketStep
from vigile.record import Recorder
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

SUPPORT = "customer_initiated_support"


def _step(n: int) -> TicketEvent:
    return TicketEvent(
        id=f"T-other/{n}",
        time=START + timedelta(minutes=n),
        ticket=f"T-other-{n}",
        event=TicketStep.OPENED,
        customer="c-1",
    )


def test_commits_interleaved_with_another_writer_keep_the_ledger_whole(
    broker: Broker, store: Store
) -> None:
    other = Recorder(store)  # another process's recorder, say `vigile ingest`
    ledger = Ledger(store.engine, store.settings)
    for n in range(6):
        broker.view_list(principal("a-1"), "c-1", "contacts", ticket="T-1", reason=SUPPORT)
        broker.view_customer(principal("a-1"), "c-1", ticket="T-1", reason=SUPPORT)
        if n % 2:
            other.record([_step(n)])
        if n == 3:
            ledger.checkpoint()  # someone signs a checkpoint in between
    with connect(store.engine) as conn:
        report = verify_ledger(conn, ledger.verifier())
        seqs = [
            conn.execute(select(func.count(), func.max(table.c.seq))).one()
            for table in t.EVENT_TABLES
        ]
    assert report.ok, report
    stored = sum(count for count, _ in seqs)
    assert max(top for _, top in seqs if top is not None) == stored - 1  # no gap, no repeat
    assert ledger.checkpoint().size == stored


def test_one_requests_bad_row_fails_that_request_only(
    broker: Broker, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = broker.committer.recorder
    record = recorder.record_prepared

    def refuses_poison(prepared: list[Any]) -> Any:
        time.sleep(0.05)  # the others queue meanwhile: they share the next transaction
        if any(values[1] == "poison" for _, values, _ in prepared):
            raise StoreError("invalid byte sequence for encoding UTF8: 0x00")
        return record(prepared)

    monkeypatch.setattr(recorder, "record_prepared", refuses_poison)
    failed = _record_at_once(broker, ["poison", *(f"good-{n}" for n in range(5))])
    assert failed == ["poison"]
    with connect(store.engine) as conn:
        stored = set(conn.execute(select(t.audit_events.c.id)).scalars())
    assert {f"good-{n}" for n in range(5)} <= stored
    assert "poison" not in stored


def _audit(event_id: str) -> AuditEvent:
    return AuditEvent(
        id=event_id, time=START, action="test.event", actor="test", subject="a-1", details={}
    )


def _record_at_once(broker: Broker, ids: list[str]) -> list[str]:
    """Record one audit event per id, each from its own thread, all started together;
    the ids whose recording failed with a store error."""
    start = threading.Barrier(len(ids))
    failed: list[str] = []

    def send(event_id: str) -> None:
        start.wait()
        try:
            broker.committer.record([_audit(event_id)])
        except StoreError:
            failed.append(event_id)

    threads = [threading.Thread(target=send, args=(event_id,)) for event_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failed


def test_a_locked_store_fails_the_batch_at_once_without_retrying_each_request(
    broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def locked(prepared: list[Any]) -> Any:
        calls.append(len(prepared))
        time.sleep(0.05)  # the others queue meanwhile: they share the next transaction
        raise StoreLocked("the store is locked by another process")

    monkeypatch.setattr(broker.committer.recorder, "record_prepared", locked)
    failed = _record_at_once(broker, [f"e-{n}" for n in range(4)])
    assert sorted(failed) == [f"e-{n}" for n in range(4)]
    assert len(calls) < 4  # shared transactions, none retried one by one
