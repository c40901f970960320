"""Inclusion proofs of many accesses against one checkpoint, and consistency proofs.

:meth:`~vigile.ledger.service.Ledger.prove` takes a checkpoint and runs one query per
event: fine for one proof, not for a listing of thousands. Here every proof's nodes are
planned first (pure), their union fetched in a few chunked queries, then each proof is
folded from that one fetch, all against the same checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from vigile.ledger.compact import NodeReader, consistency_proof, root_at
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.proof import inclusion_nodes
from vigile.ledger.sql import SqlNodes, StoredCheckpoint, event_leaf
from vigile.ledger.verify_proofs import ConsistencyBundle, InclusionBundle
from vigile.model import Access
from vigile.store import tables as t
from vigile.transparency.concern import discloses_other_customers
from vigile.transparency.errors import SizeOutOfRange
from vigile.transparency.model import AccessProof, ProofStatus

__all__ = [
    "LedgerEntry",
    "access_proofs",
    "consistency_bundle",
    "inclusion_proofs",
    "ledger_entries",
]

_IDS_PER_QUERY = 500  # well under every engine's bound-parameter limit


@dataclass(frozen=True, kw_only=True, slots=True)
class LedgerEntry:
    """An access's place in the ledger and the bytes its leaf hashes."""

    leaf_index: int
    leaf: bytes


def inclusion_proofs(
    reader: NodeReader, indices: Iterable[int], size: int
) -> dict[int, list[bytes]]:
    """Inclusion proofs of leaves ``indices`` in the tree of ``size``, one node fetch for all.

    Indices at or beyond ``size`` are left out (not in that tree).
    """
    plans = {index: inclusion_nodes(index, size) for index in set(indices) if index < size}
    wanted = list(dict.fromkeys(node for plan in plans.values() for node in plan.ids))
    fetched = dict(zip(wanted, reader.get_nodes(wanted), strict=True)) if wanted else {}
    return {index: plan.rehash([fetched[n] for n in plan.ids]) for index, plan in plans.items()}


def ledger_entries(conn: Connection, event_ids: Sequence[str]) -> dict[str, LedgerEntry]:
    """The ledger entry of each stored access of ``event_ids``, by event id."""
    table = t.accesses
    found: dict[str, LedgerEntry] = {}
    for start in range(0, len(event_ids), _IDS_PER_QUERY):
        chunk = event_ids[start : start + _IDS_PER_QUERY]
        for row in conn.execute(select(table).where(table.c.id.in_(chunk))):
            found[row.id] = LedgerEntry(
                leaf_index=int(row.seq), leaf=event_leaf(table.name, tuple(row))
            )
    return found


def access_proofs(
    conn: Connection, checkpoint: StoredCheckpoint, accesses: Sequence[Access]
) -> dict[str, AccessProof]:
    """The proof of each access against ``checkpoint``, by event id."""
    entries = ledger_entries(conn, [access.id for access in accesses])
    paths = inclusion_proofs(
        SqlNodes(conn), (entry.leaf_index for entry in entries.values()), checkpoint.size
    )
    return {access.id: _proof(access, entries[access.id], paths, checkpoint) for access in accesses}


def _proof(
    access: Access,
    entry: LedgerEntry,
    paths: Mapping[int, list[bytes]],
    checkpoint: StoredCheckpoint,
) -> AccessProof:
    path = paths.get(entry.leaf_index)
    if path is None:
        return AccessProof(status=ProofStatus.PENDING, leaf_index=entry.leaf_index)
    bundle = InclusionBundle(
        leaf_index=entry.leaf_index,
        tree_size=checkpoint.size,
        leaf_hash=leaf_hash(entry.leaf),
        proof=tuple(path),
        root=checkpoint.root,
        leaf=None if discloses_other_customers(access) else entry.leaf,
    )
    return AccessProof(status=ProofStatus.INCLUDED, leaf_index=entry.leaf_index, bundle=bundle)


def consistency_bundle(
    conn: Connection, size1: int, checkpoint: StoredCheckpoint
) -> ConsistencyBundle:
    """Proof that ``checkpoint``'s tree extends the tree of ``size1``."""
    if checkpoint.size == 0:
        raise SizeOutOfRange("the ledger is empty: there is nothing to be consistent with")
    if not 0 < size1 <= checkpoint.size:
        raise SizeOutOfRange(
            f"the size must be between 1 and {checkpoint.size} (the latest checkpoint's); "
            f"got {size1}"
        )
    nodes = SqlNodes(conn)
    return ConsistencyBundle(
        size1=size1,
        size2=checkpoint.size,
        root1=root_at(nodes, size1),
        root2=checkpoint.root,
        proof=tuple(consistency_proof(nodes, size1, checkpoint.size)),
    )
