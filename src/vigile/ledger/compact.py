"""The growing edge of the log (a compact range) and proofs served from stored nodes.

**Appending.** A :class:`CompactRange` holds the right border of the tree ``[0, size)``:
one perfect-subtree hash per one bit of ``size``, at most 64. :meth:`CompactRange.append`
costs amortised two hashes per leaf (the leaf's and, on average, one merge) and returns
every perfect node it completed. Those are the only hashes storage ever writes.

**Storage.** Node hashes are immutable once written, so storage keeps them keyed by
``(level, index)``: for example one SQL table ``ledger_node(level, index, hash)`` with a
primary key on ``(level, index)``, filled in the same transaction that sequences the
leaves, by the single integrator (no races between appenders). The integrator keeps a
:class:`CompactRange` in memory and rebuilds it on start with
:meth:`CompactRange.from_reader`.

**Reading.** Anything that answers :class:`NodeReader` serves, for *any* size up to the
current one, :func:`root_at`, :func:`inclusion_proof` and :func:`consistency_proof` in
O(log n) node reads and hashes: the root of an older size is a fold of the perfect nodes
covering ``[0, size)``, never a recomputation over the leaves. :class:`MemoryTree` is the
in-memory implementation, used in tests and benchmarks and as the model a database
reader must behave like.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from vigile.ledger.errors import HashSizeError, MissingNodeError, ProofError, TreeSizeError
from vigile.ledger.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash
from vigile.ledger.nodes import NodeId, range_nodes
from vigile.ledger.proof import consistency_nodes, inclusion_nodes

__all__ = [
    "CompactRange",
    "MemoryTree",
    "Node",
    "NodeReader",
    "consistency_proof",
    "inclusion_proof",
    "root_at",
]


class Node(NamedTuple):
    """A perfect node and its hash, as storage persists it."""

    id: NodeId
    hash: bytes


class NodeReader(Protocol):
    """Where proofs read perfect-node hashes from: memory, or the ledger's SQL tables.

    ``get_nodes`` returns the hashes of ``ids`` in the same order, in one round trip if
    the backend allows. It raises :class:`~vigile.ledger.errors.MissingNodeError` for a
    node it does not hold; it never returns a partial list.
    """

    def get_nodes(self, ids: Sequence[NodeId], /) -> Sequence[bytes]:
        """Return the hash of each node of ``ids``, in order."""
        ...


class CompactRange:
    """The perfect subtrees covering leaves ``[0, size)``: everything needed to append."""

    __slots__ = ("_hashes", "_size")

    def __init__(self, *, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            want = max(size, 0).bit_count()
            raise MissingNodeError(f"range of size {size} needs {want} hashes, got {len(hashes)}")
        for value in hashes:
            _check_node_hash(value, "a compact range hash")
        self._size = size
        self._hashes = list(hashes)  # left to right, so the largest subtree first

    @classmethod
    def from_reader(cls, reader: NodeReader, size: int) -> CompactRange:
        """Rebuild the range of ``size`` leaves from stored nodes (an integrator restart)."""
        return cls(size=size, hashes=_fetch(reader, range_nodes(0, size)))

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Hashes of the covering perfect subtrees, left to right."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf hash; return the perfect nodes it completed, leaf first.

        Storage must persist all of them before the new size is published.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise HashSizeError("leaf hash", len(leaf_hash))
        index, level, value = self._size, 0, leaf_hash
        completed = [Node(NodeId(level=0, index=index), value)]
        # A right child (odd index) completes its parent; climb while that holds.
        while index & 1:
            value = node_hash(self._hashes.pop(), value)
            index >>= 1
            level += 1
            completed.append(Node(NodeId(level=level, index=index), value))
        self._hashes.append(value)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """Return the root of the tree of the current size."""
        return _fold(self._hashes)


def root_at(reader: NodeReader, size: int) -> bytes:
    """Return the root of the tree of ``size`` from stored perfect nodes, O(log size)."""
    if size < 0:
        raise ProofError("negative tree size", tree_size=size)
    return _fold(_fetch(reader, range_nodes(0, size)))


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``size``."""
    plan = inclusion_nodes(index, size)
    return plan.rehash(_fetch(reader, plan.ids))


def consistency_proof(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """Return the consistency proof from tree size ``size1`` to ``size2``."""
    plan = consistency_nodes(size1, size2)
    return plan.rehash(_fetch(reader, plan.ids))


class MemoryTree:
    """An append-only Merkle log held in memory, keeping every perfect-node hash.

    Implements :class:`NodeReader`; roots and proofs for any earlier size come from
    the stored perfect nodes exactly as they would from a database.
    """

    __slots__ = ("_levels", "_range")

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []  # _levels[level][index] -> node hash
        self._range = CompactRange()

    @property
    def size(self) -> int:
        """Number of leaves appended."""
        return self._range.size

    def append(self, leaf: bytes) -> int:
        """Append one leaf (its data, hashed here); return its index."""
        return self.append_leaf_hash(leaf_hash(leaf))

    def append_leaf_hash(self, value: bytes) -> int:
        """Append one leaf by its hash; return its index."""
        index = self._range.size
        levels = self._levels
        for node in self._range.append(value):
            if node.id.level == len(levels):
                levels.append([])
            levels[node.id.level].append(node.hash)
        return index

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append many leaves (their data), in order."""
        for leaf in leaves:
            self.append(leaf)

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        """Return the stored hashes of ``ids``, in order (:class:`NodeReader`)."""
        return [self._node(node_id) for node_id in ids]

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the tree of ``size`` leaves (default: the current size)."""
        if size is None:
            return self._range.root()
        return root_at(self, self._within(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the proof that leaf ``index`` is in the tree of ``size`` (default: all)."""
        return inclusion_proof(self, index, self._within(size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the proof that the tree of ``size2`` (default: all) extends ``size1``."""
        return consistency_proof(self, size1, self._within(size2))

    def _within(self, size: int | None) -> int:
        if size is None:
            return self.size
        if size > self.size:
            raise TreeSizeError("size beyond the tree", requested=size, tree_size=self.size)
        return size

    def _node(self, node_id: NodeId) -> bytes:
        level, index = node_id.level, node_id.index
        # Bounds checked by hand: a negative index would silently read from the end.
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise MissingNodeError("not in the tree", level=level, index=index)


def _fetch(reader: NodeReader, ids: Sequence[NodeId]) -> list[bytes]:
    if not ids:
        return []
    hashes = list(reader.get_nodes(ids))
    if len(hashes) != len(ids):
        raise MissingNodeError(f"reader returned {len(hashes)} hashes for {len(ids)} nodes")
    for node_id, value in zip(ids, hashes, strict=True):
        if len(value) != HASH_SIZE:
            raise MissingNodeError(
                f"stored hash has {len(value)} bytes", level=node_id.level, index=node_id.index
            )
    return hashes


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect-subtree hashes (left to right) into the root of the tree they cover."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def _check_node_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise HashSizeError(what, len(value))
