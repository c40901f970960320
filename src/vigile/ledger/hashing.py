"""RFC 9162 §2.1.1 SHA-256 hashing of a Merkle tree (the same as RFC 6962).

Leaves and interior nodes are domain-separated by a one-byte prefix, so no leaf can be
mistaken for an interior node (second-preimage resistance of the tree structure).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "leaf_hash", "node_hash", "root_of"]

HASH_SIZE = 32
"""Size in bytes of every hash of the tree."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: MTH({}) = SHA-256()."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Return the hash of a leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the root of a tree over ``leaf_hashes``, folding its perfect subtrees.

    O(n) time and O(log n) memory. A reference for small inputs and batch checks; a live
    log keeps a :class:`~vigile.ledger.compact.CompactRange` instead.
    """
    stack: list[bytes] = []  # roots of perfect subtrees, left to right, decreasing sizes
    for size, leaf in enumerate(leaf_hashes, start=1):
        stack.append(leaf)
        # Each trailing zero bit of the new size means two equal subtrees merge.
        merges = (size & -size).bit_length() - 1
        for _ in range(merges):
            right = stack.pop()
            stack.append(node_hash(stack.pop(), right))
    if not stack:
        return EMPTY_ROOT
    root = stack.pop()
    while stack:
        root = node_hash(stack.pop(), root)
    return root
