"""Migration 0013 (the integrator's queued leaves) on a store written before it: the
leaves already in the tree are copied into ``ledger_leaves``, the ledger still verifies,
and recording goes on from there."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from tests.ledger.test_integrator import accesses
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.service import Ledger
from vigile.ledger.sql import LedgerWriter, event_leaf
from vigile.ledger.verify_store import verify_ledger
from vigile.record import Recorder, prepare
from vigile.settings import Settings
from vigile.store import Store
from vigile.store.engine import _alembic_config, open_engine, resolve_url
from vigile.store.rows import COLUMNS
from vigile.store.writes import bulk_insert


def _store_before_0013(settings: Settings) -> None:
    """The schema up to 0012 and 20 events with their tree, as the old write path left
    them (events and ledger entries in one transaction, no queued leaves)."""
    engine = create_engine(resolve_url(settings.db))
    with engine.connect() as conn:
        command.upgrade(_alembic_config(conn), "0012_lake")
        conn.commit()
    ledger = Ledger(engine, settings)
    with engine.begin() as conn:
        writer = LedgerWriter(
            conn, signer=ledger.signer(conn), origin=settings.ledger_origin, every=10, seconds=60
        )
        rows = []
        for seq, record in enumerate(accesses(0, 20)):
            _, values, _ = prepare(record)
            row = (seq, *values[1:])
            rows.append(row)
            writer.append_event("accesses", row)
        bulk_insert(conn, "accesses", COLUMNS["accesses"], rows)
        writer.checkpoint()
    engine.dispose()


def test_a_store_from_before_the_integrator_is_migrated_whole(
    settings: Settings, tmp_path: Path
) -> None:
    Path(settings.ledger_key).parent.mkdir(exist_ok=True)
    if "://" not in settings.db:
        Path(settings.db).touch()
    _store_before_0013(settings)
    open_engine(settings.db, create=False).dispose()  # migrates to every head
    with Store.open(settings) as store:
        with store.engine.connect() as conn:
            leaves = conn.execute(text("SELECT idx, hash, time_us FROM ledger_leaves")).all()
            row = conn.execute(text("SELECT * FROM accesses WHERE seq = 7")).one()
        assert len(leaves) == 20
        assert all(time_us is None for _, _, time_us in leaves)
        assert bytes(leaves[7][1]) == leaf_hash(event_leaf("accesses", tuple(row)))
        ledger = Ledger(store.engine, store.settings)
        Recorder(store).record(accesses(20, 5))
        with store.engine.connect() as conn:
            report = verify_ledger(conn, ledger.verifier())
        assert report.ok, report.problem
        assert (report.entries, report.pending) == (25, 0)
