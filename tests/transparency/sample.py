"""The transparency tests' activity log (data/accesses.jsonl, see data/README.md) and
what it holds, shared with the API tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import empty_database
from vigile.ingest import ingest_file
from vigile.ledger.keyfile import load_verifier
from vigile.ledger.note import Verifier
from vigile.ledger.service import public_key_path
from vigile.settings import Settings
from vigile.store import Store

ACCESSES = Path(__file__).parent / "data" / "accesses.jsonl"
GOLDEN = Path(__file__).parent / "golden"

OWN = "c-00412"
OTHER = "c-00999"
#: Accesses concerning each customer, in time order.
EVENTS = {
    OWN: ["e-3", "e-2", "e-4", "e-13"],
    OTHER: ["e-3", "e-11", "e-12", "e-14"],
}
#: Names of the agents in the directory: no customer may ever see them.
AGENT_NAMES = ("Siobhan Murphy", "Rahul Verma")


ENGINES = ("sqlite", "postgresql")


@contextmanager
def sample_store(engine: str, folder: Path, log: Path = ACCESSES) -> Iterator[Store]:
    """A store on ``engine`` holding ``log``, for every test of a module.

    The conftest's ``store`` fixture builds one per test; on PostgreSQL that costs a
    database, its migrations and an ingest each time (over a second). The read-only
    tests of a module share this one instead; tests that write use ``store``.
    """
    with empty_database(engine, folder) as url:
        settings = Settings(db=url, ledger_key=str(folder / "keys" / "ledger.key"))
        (folder / "keys").mkdir()
        with Store.open(settings, create=True) as store:
            ingest_file(store, log)
            yield store


def filled(store: Store) -> Store:
    """``store`` with the sample log ingested (and its ledger checkpointed)."""
    ingest_file(store, ACCESSES)
    return store


def verifier_of(store: Store) -> Verifier:
    """The ledger's public key, as a customer would hold it."""
    return load_verifier(public_key_path(store.settings))


def assert_no_agent_name(text: str) -> None:
    for name in AGENT_NAMES:
        assert name not in text
        assert name.split()[0] not in text
