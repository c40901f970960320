"""The broker's recorder goes on from where its last commit left the ledger, and reads
the store again whenever someone else appended or signed in between."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.broker.conftest import START, principal
from vigile.broker import Broker
from vigile.ingest.record import Recorder
from vigile.ledger.audit import verify_ledger
from vigile.ledger.service import Ledger
from vigile.model import TicketEvent, TicketStep
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
