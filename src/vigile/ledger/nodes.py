"""Addresses of the perfect subtrees of a Merkle log, and compact ranges of them.

A :class:`NodeId` ``(level, index)`` names the root of a perfect subtree: level 0 are the
leaves, and node ``(level, i)`` covers the leaves ``[i * 2**level, (i + 1) * 2**level)``::

            (2, 0)
           /      \\
       (1, 0)      \\
       /    \\       \\
   (0, 0)  (0, 1)  (0, 2)

Only perfect subtrees have stable hashes: once its last leaf is appended, the hash of a
node never changes, so storage can keep node hashes keyed by ``(level, index)`` and serve
every root and proof of every earlier tree size from them. Nodes on the right border of a
tree whose size is not a power of two are *ephemeral*: they exist only for that size and
are recomputed from perfect nodes (see :mod:`vigile.ledger.proof`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NodeId", "decompose", "range_nodes"]


@dataclass(frozen=True, kw_only=True, slots=True, order=True)
class NodeId:
    """The root of the perfect subtree at ``level`` (0 = leaves), ``index``-th from the left."""

    level: int
    index: int

    def parent(self) -> NodeId:
        """Return the node one level up that has this node as a child."""
        return NodeId(level=self.level + 1, index=self.index >> 1)

    def sibling(self) -> NodeId:
        """Return the other child of this node's parent."""
        return NodeId(level=self.level, index=self.index ^ 1)

    def coverage(self) -> tuple[int, int]:
        """Return the ``[begin, end)`` range of leaf indices under this node."""
        return self.index << self.level, (self.index + 1) << self.level


def decompose(begin: int, end: int) -> tuple[int, int]:
    """Split ``[begin, end)`` into the fewest perfect subtrees, as two bit masks.

    A one bit ``k`` of ``left`` is a subtree of ``2**k`` leaves on the left part of the
    range (sizes increasing from ``begin``); a one bit of ``right`` is one on the right
    part (sizes decreasing towards ``end``). Requires ``0 <= begin <= end``.
    """
    if begin == 0:
        return 0, end
    last_before = begin - 1
    # Nodes strictly below the point where the paths to leaves begin-1 and end diverge.
    mask = (1 << ((last_before ^ end).bit_length() - 1)) - 1
    return ~last_before & mask, end & mask


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """Return the perfect subtrees that exactly cover ``[begin, end)``, left to right.

    For ``begin == 0`` these are the nodes whose hashes fold into the root of the tree of
    size ``end``: one per one bit of ``end``, the largest first.
    """
    left, right = decompose(begin, end)
    ids: list[NodeId] = []
    position = begin
    while left:
        level = (left & -left).bit_length() - 1  # lowest set bit
        ids.append(NodeId(level=level, index=position >> level))
        position += 1 << level
        left &= left - 1
    while right:
        level = right.bit_length() - 1  # highest set bit
        ids.append(NodeId(level=level, index=position >> level))
        position += 1 << level
        right ^= 1 << level
    return ids
