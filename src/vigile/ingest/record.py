"""Record events as they happen (the broker's accesses, grant decisions, containment,
incident actions): each call one durable transaction, events and ledger leaves together.

Callers that record many events per second batch them into one call (group commit): the
cost of a commit is paid once per batch, not per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vigile.ledger.service import Ledger
from vigile.model import Record
from vigile.store import Store
from vigile.store.engine import write_transaction
from vigile.store.rows import to_values
from vigile.store.writer import EventWriter

__all__ = ["Recorded", "Recorder"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Recorded:
    """What one call stored: events numbered ``first_seq`` to ``last_seq`` (none when
    ``last_seq < first_seq``), and the events already stored before (same id)."""

    first_seq: int
    last_seq: int
    duplicates: int
    checkpointed: bool


class Recorder:
    """Appends records to a store and its ledger."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ledger = Ledger(store.engine, store.settings)

    def record(self, records: Sequence[Record]) -> Recorded:
        """Store ``records`` in one transaction; returns once it is durable."""
        with write_transaction(self.store.engine) as conn:
            ledger = self.ledger.writer(conn)
            before = ledger.checkpointed
            writer = EventWriter(conn, ledger)
            writer.write([(*to_values(record), None) for record in records])
            ledger.flush()
            ledger.checkpoint_if_due()
            checkpointed = ledger.checkpointed != before
        if checkpointed:
            self.ledger.publish()
        return Recorded(
            first_seq=writer.first_seq,
            last_seq=writer.seq - 1,
            duplicates=writer.duplicates,
            checkpointed=checkpointed,
        )
