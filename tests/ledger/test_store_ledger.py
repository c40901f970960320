"""The ledger kept in the store: appended by ingest, proved, and verified against tampering.

Tampering is done the way an insider with the database's keys would: the append-only
triggers are switched off, rows changed, and the triggers left off.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import SPEC_EXAMPLE
from vigile.activitylog import ActivityLogReader, encode
from vigile.errors import VigileError
from vigile.ingest import ingest_file
from vigile.ledger import MemoryTree, load_verifier
from vigile.ledger.canonical import canonical_json
from vigile.ledger.errors import SigningKeyError
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.service import Ledger, public_key_path
from vigile.ledger.sql import event_leaf, latest_checkpoint, ledger_size
from vigile.ledger.verify_proofs import verify_consistency_bundle, verify_inclusion_bundle
from vigile.ledger.verify_store import VerifyReport, verify_ledger
from vigile.model import Access, SignIn, TicketEvent
from vigile.settings import Settings
from vigile.store import Store

EVENT_TABLES = ("ticket_events", "signins", "accesses")


def access(number: int, customer: str = "c-00412") -> dict[str, object]:
    return {
        "kind": "access",
        "time": f"2021-05-20T10:{number // 60:02d}:{number % 60:02d}Z",
        "id": f"x-{number}",
        "agent": "a-0017",
        "session": "s-9f3",
        "action": "contact.view",
        "customer": customer,
        "fields": ["contact.name"],
        "masked_fields": ["contact.email"],
        "ticket": "T-88121",
        "reason": "customer_initiated_support",
        "outcome": "allowed",
    }


def write(path: Path, objects: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objects))
    return path


@pytest.fixture
def filled(store: Store, tmp_path: Path) -> Store:
    """The spec example plus 40 accesses, in two ingests."""
    ingest_file(store, SPEC_EXAMPLE)
    ingest_file(store, write(tmp_path / "more.jsonl", [access(n) for n in range(40)]))
    return store


def verify(store: Store, published: list[str] | None = None) -> VerifyReport:
    verifier = load_verifier(public_key_path(store.settings))
    with store.engine.connect() as conn:
        return verify_ledger(conn, verifier, published=published or [])


def test_every_event_is_a_leaf_in_order(filled: Store) -> None:
    """The root equals a reference tree over the spec objects of the file's events."""
    # The accesses came without "ip": the store gave them their session's sign-in address.
    signed_in = {"ip": "198.51.100.23"}
    # The example lists the sign-in after the ticket steps: events go in in time order.
    events = [
        r for r in ActivityLogReader(SPEC_EXAMPLE) if isinstance(r, TicketEvent | SignIn | Access)
    ]
    leaves = [
        canonical_json(encode(r) | (signed_in if isinstance(r, Access) else {}))
        for r in sorted(events, key=lambda r: r.time)
    ]
    leaves += [canonical_json(access(n) | signed_in) for n in range(40)]
    reference = MemoryTree()
    reference.extend(leaves)
    with filled.engine.connect() as conn:
        assert ledger_size(conn) == 44
        checkpoint = latest_checkpoint(conn)
    assert checkpoint is not None
    assert (checkpoint.size, checkpoint.root) == (44, reference.root())


def test_reingest_adds_no_leaf(filled: Store) -> None:
    ingest_file(filled, SPEC_EXAMPLE)
    with filled.engine.connect() as conn:
        assert ledger_size(conn) == 44


def test_inclusion_proof_verifies_offline(filled: Store) -> None:
    ledger = Ledger(filled.engine, filled.settings)
    bundle = ledger.prove("e-2")
    note = str(bundle.pop("checkpoint"))
    verifier = load_verifier(public_key_path(filled.settings))
    verified = verify_inclusion_bundle(verifier=verifier, checkpoint_note=note, bundle=bundle)
    assert verified.leaf_index == 3
    assert orjson.loads(base64.b64decode(str(bundle["leaf"])))["id"] == "e-2"


def test_consistency_between_two_ingests(filled: Store, tmp_path: Path) -> None:
    ledger = Ledger(filled.engine, filled.settings)
    old = ledger.checkpoint()
    ingest_file(filled, write(tmp_path / "later.jsonl", [access(n) for n in range(100, 110)]))
    bundle = ledger.consistency(old.size)
    note = str(bundle.pop("checkpoint"))
    verifier = load_verifier(public_key_path(filled.settings))
    checked = verify_consistency_bundle(
        verifier=verifier, checkpoint_note=note, bundle=bundle, previous_note=old.note
    )
    assert (checked.size1, checked.checkpoint.size) == (44, 54)


def test_checkpoints_every_n_entries(store: Store, tmp_path: Path) -> None:
    every_ten = Store(store.engine, replace(store.settings, checkpoint_every=10))
    ingest_file(every_ten, write(tmp_path / "a.jsonl", [access(n) for n in range(35)]))
    with store.engine.connect() as conn:
        sizes = [row[0] for row in conn.execute(text("SELECT size FROM ledger_checkpoints"))]
    assert sizes == [10, 20, 30, 35]


def test_untouched_ledger_verifies(filled: Store) -> None:
    report = verify(filled)
    assert report.ok, report.problem
    assert (report.entries, report.checkpoints) == (44, 2)


# -- tampering --------------------------------------------------------------------


@pytest.fixture
def insider(filled: Store) -> Store:
    """The store with its append-only protection switched off, as a DBA could."""
    with filled.engine.begin() as conn:
        for table in (
            *EVENT_TABLES,
            "ledger_leaves",
            "ledger_entries",
            "ledger_checkpoints",
            "search_results",
        ):
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
    return filled


def tamper(store: Store, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_one_changed_byte_is_found(insider: Store) -> None:
    tamper(insider, "UPDATE accesses SET customer = 'c-00413' WHERE id = 'x-7'")
    report = verify(insider)
    assert report.problem is not None
    assert report.problem.entry == 11
    assert "x-7" in report.problem.message
    assert "altered" in report.problem.message


def test_a_fabricated_justification_is_found(insider: Store) -> None:
    tamper(insider, "UPDATE accesses SET ticket = 'T-FAKE' WHERE id = 'e-2'")
    assert verify(insider).problem.entry == 3  # type: ignore[union-attr]


def test_a_deleted_entry_is_found(insider: Store) -> None:
    tamper(insider, "DELETE FROM accesses WHERE id = 'x-20'")
    problem = verify(insider).problem
    assert problem is not None
    assert (problem.entry, "deleted" in problem.message) == (24, True)


def test_two_swapped_entries_are_found(insider: Store) -> None:
    tamper(
        insider,
        "UPDATE accesses SET seq = -1 WHERE id = 'x-3'",
        "UPDATE accesses SET seq = 7 WHERE id = 'x-9'",
        "UPDATE accesses SET seq = 13 WHERE id = 'x-3'",
    )
    problem = verify(insider).problem
    assert problem is not None
    assert problem.entry == 7


def test_an_inserted_entry_is_found(insider: Store) -> None:
    tamper(
        insider,
        "INSERT INTO accesses (seq, id, time_us, agent, session, action, customer, fields, "
        "masked_fields, outcome) VALUES (44, 'forged', 0, 'a-1', 's', 'customer.view', 'c', "
        "'[]', '[]', 'allowed')",
    )
    problem = verify(insider).problem
    assert problem is not None
    assert (problem.entry, "inserted" in problem.message) == (44, True)


def test_rewritten_hashes_still_fail_the_signed_checkpoint(insider: Store) -> None:
    """Changing an event and its leaf hash too is caught by the checkpoint's signature."""
    tamper(insider, "UPDATE accesses SET customer = 'c-x' WHERE id = 'x-30'")
    with insider.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM accesses WHERE id = 'x-30'")).one()
    forged = leaf_hash(event_leaf("accesses", tuple(row)))
    with insider.engine.begin() as conn:
        hashes = conn.execute(text("SELECT hashes FROM ledger_entries WHERE idx = 34")).scalar()
        conn.execute(
            text("UPDATE ledger_entries SET hashes = :h WHERE idx = 34"),
            {"h": forged + bytes(hashes)[32:]},
        )
    problem = verify(insider).problem
    assert problem is not None
    assert "stored checkpoint #2" in problem.message
    assert "does not match the events" in problem.message


def test_truncation_is_found_only_against_a_published_checkpoint(insider: Store) -> None:
    published = Ledger(insider.engine, insider.settings).checkpoint().note
    tamper(
        insider,
        "DELETE FROM accesses WHERE seq >= 24",
        "DELETE FROM ledger_leaves WHERE idx >= 24",
        "DELETE FROM ledger_entries WHERE idx >= 24",
        "DELETE FROM ledger_checkpoints WHERE size > 4",
    )
    assert verify(insider).ok  # the database alone cannot tell
    problem = verify(insider, published=[published]).problem
    assert problem is not None
    assert "published checkpoint #1 covers 44 entries but the ledger holds 24" in problem.message


def test_the_published_checkpoint_is_never_rolled_back(
    insider: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Entries removed, then the ledger grown past its old size: the fork is signed in the
    database, but the published file keeps the checkpoint that proves the removal."""
    target = tmp_path / "published.txt"
    publishing = Store(insider.engine, replace(insider.settings, checkpoint_file=str(target)))
    Ledger(publishing.engine, publishing.settings).checkpoint()
    witness = target.read_text()
    tamper(
        publishing,
        "DELETE FROM accesses WHERE seq >= 24",
        "DELETE FROM ledger_leaves WHERE idx >= 24",
        "DELETE FROM ledger_entries WHERE idx >= 24",
        "DELETE FROM ledger_checkpoints WHERE size > 4",
    )
    ingest_file(publishing, write(tmp_path / "later.jsonl", [access(n) for n in range(200, 230)]))
    with publishing.engine.connect() as conn:
        assert ledger_size(conn) == 54  # a longer tree, signed, of other entries
    assert target.read_text() == witness
    assert "not publishing checkpoint 54" in caplog.text
    assert "does not extend the published checkpoint of 44" in caplog.text
    problem = verify(publishing, published=[target.read_text()]).problem
    assert problem is not None


def test_the_published_checkpoint_moves_forward(filled: Store, tmp_path: Path) -> None:
    target = tmp_path / "published.txt"
    publishing = Store(filled.engine, replace(filled.settings, checkpoint_file=str(target)))
    Ledger(publishing.engine, publishing.settings).checkpoint()
    ingest_file(publishing, write(tmp_path / "later.jsonl", [access(n) for n in range(200, 210)]))
    assert target.read_text().splitlines()[1] == "54"


def test_events_written_outside_the_write_path_are_never_signed(
    insider: Store, tmp_path: Path
) -> None:
    """A row inserted into an event table at the next ``seq`` is not taken into the
    ledger by the next writer: the store refuses to record until it is looked into."""
    with insider.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM accesses WHERE seq = 43")).mappings().one()
    forged = {**row, "seq": 44, "id": "forged-1", "customer": "c-00999"}
    columns = ", ".join(forged)
    marks = ", ".join(f":{name}" for name in forged)
    tamper(insider)  # the protection is off; the insert below needs none
    with insider.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO accesses ({columns}) VALUES ({marks})"), forged)
    with pytest.raises(VigileError, match="1 events the ledger does not"):
        ingest_file(insider, write(tmp_path / "later.jsonl", [access(300)]))
    with insider.engine.connect() as conn:
        assert ledger_size(conn) == 44
    problem = verify(insider).problem
    assert problem is not None


def test_ledger_tables_refuse_changes(filled: Store) -> None:
    for statement in (
        "UPDATE ledger_entries SET hashes = hashes",
        "DELETE FROM ledger_checkpoints",
    ):
        with pytest.raises(DBAPIError, match="append-only"), filled.engine.begin() as conn:
            conn.execute(text(statement))


# -- keys -------------------------------------------------------------------------


def test_a_lost_key_is_never_silently_replaced(filled: Store, tmp_path: Path) -> None:
    Path(filled.settings.ledger_key).unlink()
    with pytest.raises(SigningKeyError, match="signing key is missing but checkpoints exist"):
        ingest_file(filled, write(tmp_path / "late.jsonl", [access(500)]))
    with filled.engine.connect() as conn:
        assert ledger_size(conn) == 44


def test_private_key_is_owner_only(filled: Store) -> None:
    assert Path(filled.settings.ledger_key).stat().st_mode & 0o777 == 0o600


def test_checkpoint_is_published_to_a_file(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "published.txt"
    publishing = Store(store.engine, replace(store.settings, checkpoint_file=str(target)))
    ingest_file(publishing, SPEC_EXAMPLE)
    assert target.read_text().splitlines()[1] == "4"


def test_prove_unknown_event(filled: Store) -> None:
    with pytest.raises(VigileError, match="no event with id 'nope'"):
        Ledger(filled.engine, filled.settings).prove("nope")


def test_settings_point_at_the_key(tmp_path: Path) -> None:
    settings = Settings(ledger_key=str(tmp_path / "k"))
    assert public_key_path(settings) == tmp_path / "k.pub"
