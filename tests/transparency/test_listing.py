"""A customer's accesses from a store, with proofs, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import text

from tests.transparency.sample import ENGINES, EVENTS, OTHER, OWN, sample_store, verifier_of
from vigile.ledger import root_at
from vigile.ledger.sql import SqlNodes, StoredCheckpoint
from vigile.ledger.verify_proofs import verify_consistency_bundle, verify_inclusion_bundle
from vigile.model import Access, Action
from vigile.store import Store
from vigile.store.engine import connect
from vigile.transparency import (
    AccessNotFound,
    ProofStatus,
    SizeOutOfRange,
    Transparency,
    UnknownCustomer,
)
from vigile.transparency.proofs import access_proofs


@pytest.fixture(scope="module", params=ENGINES)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Transparency]:
    with sample_store(request.param, tmp_path_factory.mktemp("listing")) as store:
        yield Transparency(store)


def ids(service: Transparency, customer: str, **window: datetime) -> list[str]:
    return [entry.event_id for entry in service.accesses(customer, **window).entries]


def test_every_access_concerning_the_customer_and_nothing_else(service: Transparency) -> None:
    assert ids(service, OWN) == EVENTS[OWN]
    assert ids(service, OTHER) == EVENTS[OTHER]


def test_a_search_that_listed_the_customer_counts_as_an_access(service: Transparency) -> None:
    listing = service.accesses(OWN)
    (search,) = [e for e in listing.entries if e.action is Action.CUSTOMER_SEARCH]
    assert (search.event_id, search.fields, search.masked_fields) == ("e-3", ("customer.name",), ())
    # The search listed two customers: its entry names the other, so only its hash is given.
    assert search.proof.bundle is not None
    assert not search.proof.leaf_disclosed
    assert search.proof.bundle.leaf is None


def test_allowed_and_denied_accesses_are_listed(service: Transparency) -> None:
    outcomes = {e.event_id: (e.outcome, e.deny_reason) for e in service.accesses(OWN).entries}
    assert outcomes["e-2"] == ("allowed", None)
    assert outcomes["e-13"] == ("denied", "no open ticket of this customer assigned to the agent")


def test_the_agent_is_its_pseudonym_employer_and_country(service: Transparency) -> None:
    entry = {e.event_id: e for e in service.accesses(OWN).entries}["e-13"]
    assert (entry.agent, entry.agent_employer, entry.agent_country) == (
        "a-0042",
        "fabrikam-outsourcing",
        "IN",
    )


def test_the_window_is_inclusive(service: Transparency) -> None:
    since = datetime(2021, 5, 20, 9, 31, 5, tzinfo=UTC)
    until = datetime(2021, 5, 20, 9, 40, tzinfo=UTC)
    assert ids(service, OWN, since=since) == ["e-2", "e-4", "e-13"]
    assert ids(service, OWN, since=since, until=until) == ["e-2", "e-4"]


def test_every_proof_verifies_against_the_one_checkpoint(service: Transparency) -> None:
    listing = service.accesses(OWN)
    verifier = verifier_of(service.store)
    for entry in listing.entries:
        assert entry.proof.status is ProofStatus.INCLUDED
        assert entry.proof.bundle is not None
        assert entry.proof.bundle.tree_size == listing.tree_size
        verified = verify_inclusion_bundle(
            verifier=verifier, checkpoint_note=listing.checkpoint, bundle=entry.proof.bundle
        )
        assert verified.leaf_index == entry.proof.leaf_index


def test_a_disclosed_leaf_is_the_access_itself(service: Transparency) -> None:
    entry = {e.event_id: e for e in service.accesses(OWN).entries}["e-2"]
    assert entry.proof.bundle is not None
    assert entry.proof.bundle.leaf is not None
    leaf = orjson.loads(entry.proof.bundle.leaf)
    assert (leaf["id"], leaf["customer"], leaf["kind"]) == ("e-2", OWN, "access")


def test_accesses_after_the_checkpoint_are_pending(service: Transparency) -> None:
    accesses = [e for e in service.store.events_of_customer(OWN) if isinstance(e, Access)]
    with connect(service.store.engine) as conn:
        # A checkpoint signed before the last accesses were recorded.
        older = StoredCheckpoint(
            size=6, root=root_at(SqlNodes(conn), 6), time=datetime.now(UTC), note=""
        )
        proofs = access_proofs(conn, older, accesses)
        positions = {
            event_id: conn.execute(
                text("SELECT seq FROM accesses WHERE id = :id"), {"id": event_id}
            ).scalar_one()
            for event_id in proofs
        }
    statuses = {event_id: proof.status for event_id, proof in proofs.items()}
    # Entries before 6 are in the tree of 6; later ones wait for the next checkpoint.
    assert statuses == {
        event_id: ProofStatus.INCLUDED if positions[event_id] < 6 else ProofStatus.PENDING
        for event_id in proofs
    }
    assert set(statuses.values()) == {ProofStatus.INCLUDED, ProofStatus.PENDING}
    pending = next(e for e, status in statuses.items() if status is ProofStatus.PENDING)
    assert proofs[pending].bundle is None


def test_reading_never_takes_the_writers_lock_when_the_checkpoint_is_current(
    service: Transparency, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ingest signs a checkpoint before it commits, so the latest one is always current:
    # listings and proofs must not wait behind a writer to sign another.
    def sign(*_: object) -> None:
        raise AssertionError("signed a checkpoint while the latest one was current")

    monkeypatch.setattr(service.ledger, "checkpoint", sign)
    assert service.accesses(OWN).tree_size == service.checkpoint().size
    service.access(OWN, "e-2")
    service.consistency(1)


def test_an_empty_ledger_gets_its_first_checkpoint(store: Store) -> None:
    assert Transparency(store).checkpoint().size == 0


def test_an_unknown_customer_is_a_clear_error(service: Transparency) -> None:
    with pytest.raises(UnknownCustomer, match="no customer 'c-nobody'"):
        service.accesses("c-nobody")


def test_one_access_is_found_only_by_a_customer_it_concerns(service: Transparency) -> None:
    assert service.access(OWN, "e-2").entry.event_id == "e-2"
    assert service.access(OTHER, "e-3").entry.fields == ("customer.name",)
    for customer, event_id in [(OTHER, "e-2"), (OWN, "e-12"), (OWN, "e-11"), (OWN, "e-404")]:
        with pytest.raises(AccessNotFound):
            service.access(customer, event_id)
    with pytest.raises(AccessNotFound):
        service.access(OWN, "e-1")  # a sign-in, not an access


def test_consistency_from_any_size_to_the_latest(service: Transparency) -> None:
    verifier = verifier_of(service.store)
    size = service.checkpoint().size
    for size1 in (1, 5, size):
        note, bundle = service.consistency(size1)
        verify_consistency_bundle(verifier=verifier, checkpoint_note=note, bundle=bundle)
    for wrong in (0, size + 1):
        with pytest.raises(SizeOutOfRange):
            service.consistency(wrong)


def test_consistency_of_an_empty_ledger_is_refused(store: Store) -> None:
    with pytest.raises(SizeOutOfRange, match="empty"):
        Transparency(store).consistency(1)


def test_leaf_hashes_are_base64_of_32_bytes(service: Transparency) -> None:
    for entry in service.accesses(OTHER).entries:
        assert entry.proof.bundle is not None
        bundle = entry.proof.bundle.to_json()
        assert len(base64.b64decode(bundle["leaf_hash"])) == 32
