"""Access transparency over a store: a customer's accesses with proofs, and the public
views of the ledger (latest checkpoint, consistency) that auditors poll."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from vigile.ledger.leaves import queued_size
from vigile.ledger.service import Ledger
from vigile.ledger.sql import StoredCheckpoint, latest_checkpoint
from vigile.ledger.verify_proofs import ConsistencyBundle
from vigile.model import Access, Agent
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect
from vigile.store.rows import from_row
from vigile.transparency.concern import entry_of
from vigile.transparency.errors import AccessNotFound, UnknownCustomer
from vigile.transparency.model import AccessEntry, AccessListing
from vigile.transparency.proofs import access_proofs, consistency_bundle
from vigile.transparency.tokens import IssuedToken, issue_token, revoke_tokens

__all__ = ["ProvenAccess", "Transparency"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ProvenAccess:
    """One access of a customer and the checkpoint its proof is against."""

    checkpoint: str
    entry: AccessEntry


class Transparency:
    """What customers and auditors may see of the store's accesses and ledger."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ledger = Ledger(store.engine, store.settings)

    def accesses(
        self,
        customer_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AccessListing:
        """Every access concerning ``customer_id`` (its own, and the searches that listed
        it), ``since`` and ``until`` inclusive, each proven against one checkpoint."""
        self._known(customer_id)
        # The checkpoint first: accesses recorded meanwhile come out as pending, never
        # with a proof against a tree that does not hold them.
        checkpoint = self.checkpoint()
        events = self.store.events_of_customer(customer_id, since, until)
        accesses = [event for event in events if isinstance(event, Access)]
        entries = self._entries(customer_id, accesses, checkpoint)
        return AccessListing(
            customer=customer_id,
            since=since,
            until=until,
            checkpoint=checkpoint.note,
            tree_size=checkpoint.size,
            entries=tuple(entries),
        )

    def access(self, customer_id: str, event_id: str) -> ProvenAccess:
        """One access concerning ``customer_id``, with its proof.

        :class:`AccessNotFound` alike for an unknown event and another customer's.
        """
        checkpoint = self.checkpoint()
        with connect(self.store.engine) as conn:
            access = _concerning(conn, customer_id, event_id)
        if access is None:
            raise AccessNotFound(event_id)
        (entry,) = self._entries(customer_id, [access], checkpoint)
        return ProvenAccess(checkpoint=checkpoint.note, entry=entry)

    def checkpoint(self) -> StoredCheckpoint:
        """The latest checkpoint, signed first if entries came after it.

        Read without the integrator's lock when it is current (it covers every stored
        event, as after every ingest): reading proofs never waits for the integrator.
        Otherwise what is stored is integrated and signed first.
        """
        with connect(self.store.engine) as conn:
            latest = latest_checkpoint(conn)
            # Every stored event's leaf, integrated or waiting for the integrator.
            current = latest is not None and latest.size == queued_size(conn)
        if latest is not None and current:
            return latest
        return self.ledger.checkpoint()

    def consistency(self, size1: int) -> tuple[str, ConsistencyBundle]:
        """The latest checkpoint's note and the proof it extends the tree of ``size1``."""
        checkpoint = self.checkpoint()
        with connect(self.store.engine) as conn:
            return checkpoint.note, consistency_bundle(conn, size1, checkpoint)

    def issue_token(self, customer_id: str) -> IssuedToken:
        """A new API token for a customer of the directory (shown once, stored hashed)."""
        self._known(customer_id)
        return issue_token(self.store.engine, customer_id)

    def revoke_tokens(self, customer_id: str) -> int:
        """Revoke every valid token of a customer of the directory; how many were."""
        self._known(customer_id)
        return revoke_tokens(self.store.engine, customer_id)

    def _known(self, customer_id: str) -> None:
        if self.store.customer(customer_id) is None:
            raise UnknownCustomer(customer_id)

    def _entries(
        self, customer_id: str, accesses: list[Access], checkpoint: StoredCheckpoint
    ) -> list[AccessEntry]:
        with connect(self.store.engine) as conn:
            proofs = access_proofs(conn, checkpoint, accesses)
        agents = self._agents(access.agent for access in accesses)
        return [
            entry_of(
                access,
                customer_id=customer_id,
                agent=agents.get(access.agent),
                proof=proofs[access.id],
            )
            for access in accesses
        ]

    def _agents(self, ids: Iterable[str]) -> dict[str, Agent]:
        found = {agent_id: self.store.agent(agent_id) for agent_id in set(ids)}
        return {agent_id: agent for agent_id, agent in found.items() if agent is not None}


def _concerning(conn: Connection, customer_id: str, event_id: str) -> Access | None:
    """The access ``event_id`` if it concerns ``customer_id`` (directly, or a search that
    listed it), else ``None``."""
    table, shown = t.accesses, t.search_results
    row = conn.execute(select(table).where(table.c.id == event_id)).mappings().first()
    if row is None:
        return None
    listed = select(shown.c.customer).where(
        shown.c.customer == customer_id,
        shown.c.time_us == row["time_us"],
        shown.c.access_seq == row["seq"],
    )
    if row["customer"] != customer_id and conn.execute(listed).first() is None:
        return None
    return from_row(Access, row)
