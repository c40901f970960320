"""Inclusion and consistency proofs of an RFC 9162 log: which nodes, and how to check them.

Building a proof is split in two pure steps, so storage does the only I/O in between
(the design of transparency-dev/merkle ``proof.Nodes``)::

    plan = inclusion_nodes(index, size)        # which perfect nodes the proof needs
    hashes = reader.get_nodes(plan.ids)        # storage fetches them, in that order
    proof = plan.rehash(hashes)                # fold the ephemeral node, if any

A proof of a tree whose size is not a power of two may need one *ephemeral* node: a node
on the right border of the tree that covers fewer leaves than a perfect subtree would.
Its hash is not stored (it changes as the log grows); the plan lists the perfect nodes
that cover the same leaves, ``ids[ephem_begin:ephem_end]``, lowest first, and
:meth:`ProofNodes.rehash` folds them into the one hash the proof carries.

The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 as implemented by transparency-dev:
every hash they combine must be 32 bytes, a consistency proof from the empty tree is an
error, and a proof between two equal sizes must be empty and the roots equal.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from vigile.ledger.errors import MissingNodeError, ProofError
from vigile.ledger.hashing import HASH_SIZE, node_hash
from vigile.ledger.nodes import NodeId, range_nodes

__all__ = [
    "ProofNodes",
    "consistency_nodes",
    "inclusion_nodes",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


@dataclass(frozen=True, kw_only=True)
class ProofNodes:
    """The perfect nodes a proof needs, and how to fold them into the proof's hashes.

    ``ids`` lists the node ids to fetch, in proof order. When ``ephem`` is set, the
    hashes of ``ids[ephem_begin:ephem_end]`` (lowest level first) fold into the hash of
    that ephemeral node, which takes their place in the proof.
    """

    ids: tuple[NodeId, ...]
    ephem: NodeId | None = None
    ephem_begin: int = 0
    ephem_end: int = 0

    def rehash(self, hashes: Sequence[bytes]) -> list[bytes]:
        """Return the proof from the fetched ``hashes`` of :attr:`ids`, in the same order."""
        if len(hashes) != len(self.ids):
            raise MissingNodeError(f"got {len(hashes)} hashes for {len(self.ids)} proof nodes")
        if self.ephem is None:
            return list(hashes)
        begin, end = self.ephem_begin, self.ephem_end
        folded = hashes[begin]
        for left in hashes[begin + 1 : end]:
            folded = node_hash(left, folded)
        return [*hashes[:begin], folded, *hashes[end:]]

    def _skip_first(self) -> ProofNodes:
        # The first node is the one being proven; the verifier already holds its hash.
        if self.ephem is None:
            return ProofNodes(ids=self.ids[1:])
        return ProofNodes(
            ids=self.ids[1:],
            ephem=self.ephem,
            ephem_begin=self.ephem_begin - 1,
            ephem_end=self.ephem_end - 1,
        )


def inclusion_nodes(index: int, size: int) -> ProofNodes:
    """Return the nodes of the inclusion proof of leaf ``index`` in the tree of ``size``.

    Requires ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ProofError("leaf index out of range", leaf_index=index, tree_size=size)
    return _path_nodes(index, 0, size)._skip_first()


def consistency_nodes(size1: int, size2: int) -> ProofNodes:
    """Return the nodes of the consistency proof from tree size ``size1`` to ``size2``.

    Requires ``0 < size1 <= size2``; the proof between equal sizes is empty.
    """
    if not 0 < size1 <= size2:
        raise ProofError("need 0 < size1 <= size2", size1=size1, size2=size2)
    if size1 == size2:
        return ProofNodes(ids=())
    # The largest perfect subtree ending at size1 is the proof's seed; the rest of the
    # proof is that node's inclusion path in the tree of size2.
    level = _trailing_zeros(size1)
    plan = _path_nodes((size1 - 1) >> level, level, size2)
    # When size1 is a power of two the seed is root1 itself, which the verifier holds.
    return plan._skip_first() if size1 & (size1 - 1) == 0 else plan


def _path_nodes(index: int, level: int, size: int) -> ProofNodes:
    """The node (level, index), then what proves its inclusion in the tree of ``size``."""
    # The fork is where the path from this node up to the root leaves the path to leaf
    # ``size``; its sibling is the ephemeral node, covering [fork end, size).
    inner = (index ^ (size >> level)).bit_length() - 1
    fork = NodeId(level=level + inner, index=index >> inner)
    begin, end = fork.coverage()

    node = NodeId(level=level, index=index)
    ids = [node]
    for _ in range(inner):
        ids.append(node.sibling())
        node = node.parent()
    # The ephemeral node's cover, lowest first so rehash folds right to left.
    ephem_begin = len(ids)
    ids.extend(reversed(range_nodes(end, size)))
    ephem_end = len(ids)
    # Then the perfect subtrees left of the fork, lowest first as the proof climbs.
    ids.extend(reversed(range_nodes(0, begin)))

    if ephem_end - ephem_begin < 2:  # none, or one perfect node used as it is
        return ProofNodes(ids=tuple(ids))
    return ProofNodes(
        ids=tuple(ids), ephem=fork.sibling(), ephem_begin=ephem_begin, ephem_end=ephem_end
    )


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``proof`` shows leaf ``index`` with ``leaf_hash`` in the tree of ``root``.

    Raises :class:`ProofError` unless the proof is valid.
    """
    _check_hash(root, "root", leaf_index=index, tree_size=size)
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if not hmac.compare_digest(calculated, root):
        raise ProofError(_mismatch(calculated, root), leaf_index=index, tree_size=size)


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root that ``proof`` leads to from leaf ``index`` of the tree of ``size``.

    Raises :class:`ProofError` if the index, a hash or the proof length is wrong.
    """
    if not 0 <= index < size:
        raise ProofError("leaf index out of range", leaf_index=index, tree_size=size)
    _check_hash(leaf_hash, "leaf hash", leaf_index=index, tree_size=size)
    _check_proof(proof, leaf_index=index, tree_size=size)
    inner, border = _decompose_inclusion_proof(index, size)
    if len(proof) != inner + border:
        raise ProofError(
            f"proof has {len(proof)} hashes, want {inner + border}",
            leaf_index=index,
            tree_size=size,
        )
    seed = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(seed, proof[inner:])


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that ``proof`` shows the tree of ``root2`` extends the tree of ``root1``.

    Raises :class:`ProofError` unless the proof is valid. Between equal sizes the proof
    must be empty and the roots equal; they are then compared as opaque values, as
    transparency-dev does (one of its vectors uses 12-byte roots there).
    """
    calculated = root_from_consistency_proof(size1, size2, proof, root1)
    if size1 != size2:
        _check_hash(root2, "root2", size1=size1, size2=size2)
    if not hmac.compare_digest(calculated, root2):
        raise ProofError(_mismatch(calculated, root2), size1=size1, size2=size2)


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """Return the root of the tree of ``size2`` that ``proof`` leads to from ``root1``.

    Also checks that the proof leads back to ``root1``. Requires ``0 < size1 <= size2``.
    """
    _check_consistency_sizes(size1, size2, proof)
    if size1 == size2:
        return root1
    _check_hash(root1, "root1", size1=size1, size2=size2)
    _check_proof(proof, size1=size1, size2=size2)

    inner, border = _decompose_inclusion_proof(size1 - 1, size2)
    shift = _trailing_zeros(size1)
    inner -= shift  # levels below the largest perfect subtree ending at size1
    # The proof starts with that subtree's root, unless it is the whole tree of size1.
    seed, start = (root1, 0) if size1 == 1 << shift else (proof[0], 1)
    if len(proof) != start + inner + border:
        raise ProofError(
            f"proof has {len(proof)} hashes, want {start + inner + border}",
            size1=size1,
            size2=size2,
        )
    path = proof[start:]
    mask = (size1 - 1) >> shift
    # Hashes left of the path rebuild the old root; all of them build the new one.
    old = _chain_border_right(_chain_inner_right(seed, path[:inner], mask), path[inner:])
    if not hmac.compare_digest(old, root1):
        raise ProofError(
            "proof does not lead to root1: " + _mismatch(old, root1), size1=size1, size2=size2
        )
    return _chain_border_right(_chain_inner(seed, path[:inner], mask), path[inner:])


def _check_consistency_sizes(size1: int, size2: int, proof: Sequence[bytes]) -> None:
    if size1 < 0 or size2 < size1:
        raise ProofError("need 0 <= size1 <= size2", size1=size1, size2=size2)
    if size1 == 0:
        raise ProofError(
            "a consistency proof from the empty tree is meaningless", size1=size1, size2=size2
        )
    if size1 == size2 and proof:
        raise ProofError("sizes are equal but the proof is not empty", size1=size1, size2=size2)
    if size1 != size2 and not proof:
        raise ProofError("the proof is empty", size1=size1, size2=size2)


def _decompose_inclusion_proof(index: int, size: int) -> tuple[int, int]:
    """Split the proof of leaf ``index`` where its path and the path to ``size - 1`` meet.

    Returns the lengths of the lower part (siblings below the meeting point) and of the
    border part (perfect subtrees left of the right border above it).
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for level, sibling in enumerate(proof):
        is_left = (index >> level) & 1 == 0
        seed = node_hash(seed, sibling) if is_left else node_hash(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    # Only the siblings left of the path existed in the older tree.
    for level, sibling in enumerate(proof):
        if (index >> level) & 1 == 1:
            seed = node_hash(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    for left in proof:
        seed = node_hash(left, seed)
    return seed


def _check_proof(proof: Sequence[bytes], **context: int) -> None:
    for position, value in enumerate(proof):
        _check_hash(value, f"proof[{position}]", **context)


def _check_hash(value: bytes, what: str, **context: int) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} has {len(value)} bytes, want {HASH_SIZE}", **context)


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1


def _mismatch(calculated: bytes, expected: bytes) -> str:
    return f"calculated root {calculated.hex()[:16]}… does not match {expected.hex()[:16]}…"
