"""Recording events as they happen: audit events and accesses in the store and the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import SPEC_EXAMPLE
from vigile.errors import StoreError
from vigile.ingest import ingest_file
from vigile.ledger import load_verifier
from vigile.ledger.service import Ledger, public_key_path
from vigile.ledger.sql import ledger_size
from vigile.ledger.verify_store import verify_ledger
from vigile.model import Access, Action, AuditEvent, Reason
from vigile.record import Recorder
from vigile.store import Store
from vigile.store.rows import from_row
from vigile.store.tables import audit_events

NOW = datetime(2021, 5, 20, 10, 0, tzinfo=UTC)


def suspension(number: int) -> AuditEvent:
    return AuditEvent(
        id=f"audit-{number}",
        time=NOW,
        action="agent.suspended",
        actor="analyst-1",
        subject="a-0017",
        details={"reason": "signed in from a new country", "sessions": 2},
    )


def test_audit_events_join_the_ledger_after_the_activity(store: Store, tmp_path: Path) -> None:
    ingest_file(store, SPEC_EXAMPLE)
    recorder = Recorder(store)
    first = recorder.record([suspension(1)])
    again = recorder.record([suspension(1), suspension(2)])
    assert (first.first_seq, first.last_seq) == (4, 4)
    assert (again.first_seq, again.last_seq, again.duplicates) == (5, 5, 1)
    with store.engine.connect() as conn:
        assert ledger_size(conn) == 6
        row = conn.execute(audit_events.select().where(audit_events.c.seq == 4)).mappings().one()
        report = verify_ledger(conn, load_verifier(public_key_path(store.settings)))
    assert from_row(AuditEvent, row) == suspension(1)
    assert report.ok, report.problem
    bundle = Ledger(store.engine, store.settings).prove("audit-2")
    assert bundle["leaf_index"] == 5


def test_an_access_recorded_live_is_provable(store: Store) -> None:
    access = _reveal()
    recorded = Recorder(store).record([access])
    assert recorded.checkpointed is False  # the policy decides, not every call
    assert Ledger(store.engine, store.settings).prove("live-1")["leaf_index"] == 0


def test_a_store_refusing_the_rows_is_a_store_error_on_each_engine(store: Store) -> None:
    # On PostgreSQL rows go by COPY, straight to the driver: its error was psycopg's own,
    # past the store's boundary (a 500 for the API and the console, not the store's 503).
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                )
            )
            refusal = "FOR EACH ROW EXECUTE FUNCTION refuse()"
        else:
            refusal = "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON accesses {refusal}"))
    with pytest.raises(StoreError, match="disk full"):
        Recorder(store).record([_reveal()])
    assert store.counts()["accesses"] == 0
    with store.engine.connect() as conn:
        assert ledger_size(conn) == 0  # the leaf went with the row


def _reveal() -> Access:
    return Access(
        id="live-1",
        time=NOW,
        agent="a-0017",
        session="s-1",
        ip="198.51.100.7",
        action=Action.CONTACT_REVEAL,
        customer="c-00412",
        fields=("contact.email",),
        ticket="T-1",
        reason=Reason.CUSTOMER_INITIATED_SUPPORT,
        outcome="allowed",
    )
