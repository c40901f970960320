"""Compact ranges, proof plans and reads from a NodeReader, as storage will use them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger import reference
from vigile.ledger.compact import (
    CompactRange,
    MemoryTree,
    Node,
    consistency_proof,
    inclusion_proof,
    root_at,
)
from vigile.ledger.errors import (
    HashSizeError,
    MissingNodeError,
    ProofError,
    TreeSizeError,
)
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.nodes import NodeId, decompose, range_nodes
from vigile.ledger.proof import ProofNodes, consistency_nodes, inclusion_nodes


def _n(level: int, index: int) -> NodeId:
    return NodeId(level=level, index=index)


class DictReader:
    """What a SQL table ``(level, index) -> hash`` looks like to the proof code."""

    def __init__(self) -> None:
        self.nodes: dict[NodeId, bytes] = {}
        self.reads: list[int] = []

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        self.reads.append(len(ids))
        try:
            return [self.nodes[node_id] for node_id in ids]
        except KeyError as exc:
            raise MissingNodeError("not stored") from exc


def _persisted(leaves: list[bytes]) -> tuple[CompactRange, DictReader]:
    frontier, store = CompactRange(), DictReader()
    for leaf in leaves:
        for node in frontier.append(leaf_hash(leaf)):
            assert node.id not in store.nodes, "a node hash is written once"
            store.nodes[node.id] = node.hash
    return frontier, store


def test_append_reports_the_nodes_it_completes() -> None:
    frontier = CompactRange()
    completed = [[node.id for node in frontier.append(leaf_hash(bytes([i])))] for i in range(4)]
    assert completed == [
        [_n(0, 0)],
        [_n(0, 1), _n(1, 0)],
        [_n(0, 2)],
        [_n(0, 3), _n(1, 1), _n(2, 0)],
    ]
    assert frontier.size == 4
    assert len(frontier.hashes) == 1


def test_append_hashes_twice_per_leaf_amortised() -> None:
    frontier = CompactRange()
    written = sum(len(frontier.append(leaf_hash(b"x"))) for _ in range(1024))
    assert written == 2 * 1024 - 1  # every perfect node of the tree of 1024, once


@settings(max_examples=40, deadline=None)
@given(leaves=st.lists(st.binary(max_size=8), min_size=1, max_size=200), data=st.data())
def test_storage_serves_every_earlier_size(leaves: list[bytes], data: st.DataObject) -> None:
    frontier, store = _persisted(leaves)
    size2 = data.draw(st.integers(1, len(leaves)))
    size1 = data.draw(st.integers(1, size2))
    index = data.draw(st.integers(0, size2 - 1))
    assert root_at(store, size2) == reference.mth(leaves[:size2])
    assert inclusion_proof(store, index, size2) == reference.path(index, leaves[:size2])
    assert consistency_proof(store, size1, size2) == reference.proof(size1, leaves[:size2])
    assert CompactRange.from_reader(store, frontier.size).hashes == frontier.hashes


def test_reads_are_one_round_trip_of_logarithmic_size() -> None:
    size = 100_003
    _, store = _persisted([i.to_bytes(4, "big") for i in range(size)])
    store.reads.clear()
    root_at(store, size - 5)
    inclusion_proof(store, 12_345, size)
    consistency_proof(store, 77_777, size)
    assert len(store.reads) == 3
    assert max(store.reads) <= 2 * size.bit_length()


def test_restart_from_storage_continues_the_same_tree() -> None:
    leaves = [bytes([i]) for i in range(37)]
    _, store = _persisted(leaves[:21])
    frontier = CompactRange.from_reader(store, 21)
    for leaf in leaves[21:]:
        for node in frontier.append(leaf_hash(leaf)):
            store.nodes[node.id] = node.hash
    assert frontier.root() == root_at(store, 37) == reference.mth(leaves)


def test_missing_nodes_are_reported() -> None:
    _, store = _persisted([b"a", b"b", b"c"])
    del store.nodes[_n(1, 0)]
    with pytest.raises(MissingNodeError):
        root_at(store, 3)
    with pytest.raises(MissingNodeError, match=r"level 2, index 0"):
        MemoryTree().get_nodes([_n(2, 0)])


def test_a_reader_returning_too_few_or_bad_hashes_is_caught() -> None:
    class Short:
        def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
            return [b"\x00" * 32] * (len(ids) - 1)

    class Truncated:
        def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
            return [b"\x00" * 31] * len(ids)

    with pytest.raises(MissingNodeError, match="returned 1 hashes for 2 nodes"):
        root_at(Short(), 3)
    with pytest.raises(MissingNodeError, match="31 bytes"):
        inclusion_proof(Truncated(), 0, 2)


def test_memory_tree_refuses_sizes_it_does_not_have() -> None:
    tree = MemoryTree()
    tree.extend([b"a", b"b"])
    with pytest.raises(TreeSizeError, match="requested 3, tree size 2"):
        tree.root(3)
    with pytest.raises(TreeSizeError):
        tree.inclusion_proof(0, 3)
    with pytest.raises(ProofError):
        tree.inclusion_proof(2)
    with pytest.raises(ProofError):
        tree.consistency_proof(0)
    with pytest.raises(MissingNodeError):
        tree.get_nodes([_n(0, -1)])


def test_bad_hashes_never_enter_the_range() -> None:
    with pytest.raises(HashSizeError, match="leaf hash has 31 bytes"):
        CompactRange().append(b"\x00" * 31)
    with pytest.raises(MissingNodeError, match="needs 2 hashes, got 1"):
        CompactRange(size=3, hashes=[b"\x00" * 32])


def test_node_ids() -> None:
    node = _n(2, 3)
    assert node.coverage() == (12, 16)
    assert node.parent() == _n(3, 1)
    assert node.sibling() == _n(2, 2)
    assert sorted([_n(1, 0), _n(0, 5)]) == [_n(0, 5), _n(1, 0)]


def test_range_decomposition() -> None:
    # transparency-dev's example: [0b110, 0b11101) is subtrees of sizes 2,8; 8,4,1.
    assert decompose(0b110, 0b11101) == (0b1010, 0b1101)
    sizes = [1 << node.level for node in range_nodes(0b110, 0b11101)]
    assert sizes == [2, 8, 8, 4, 1]
    assert range_nodes(0, 7) == [_n(2, 0), _n(1, 2), _n(0, 6)]
    assert range_nodes(5, 5) == []


def test_inclusion_plan_with_an_ephemeral_node() -> None:
    # Leaf 1 of 7 leaves: sibling 0, then node (1,1), then the ephemeral (2,1) = [4, 7).
    plan = inclusion_nodes(1, 7)
    assert plan == ProofNodes(
        ids=(_n(0, 0), _n(1, 1), _n(0, 6), _n(1, 2)),
        ephem=_n(2, 1),
        ephem_begin=2,
        ephem_end=4,
    )
    assert len(plan.rehash([b"\x00" * 32] * 4)) == 3


def test_plans_without_ephemeral_nodes() -> None:
    assert inclusion_nodes(0, 8) == ProofNodes(ids=(_n(0, 1), _n(1, 1), _n(2, 1)))
    assert inclusion_nodes(6, 7) == ProofNodes(ids=(_n(1, 2), _n(2, 0)))
    assert consistency_nodes(4, 4) == ProofNodes(ids=())
    # size1 = 4 is a power of two: the verifier holds root1, the proof starts above it.
    assert consistency_nodes(4, 8).ids == (_n(2, 1),)
    # size1 = 6: the proof starts with (1, 2), the subtree of the old tree it extends.
    assert consistency_nodes(6, 8).ids == (_n(1, 2), _n(1, 3), _n(2, 0))


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (-1, 4)])
def test_impossible_inclusion_plans(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        inclusion_nodes(index, size)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 3), (4, 3), (-1, 2)])
def test_impossible_consistency_plans(size1: int, size2: int) -> None:
    with pytest.raises(ProofError):
        consistency_nodes(size1, size2)


def test_rehash_needs_one_hash_per_node() -> None:
    with pytest.raises(MissingNodeError, match="got 1 hashes for 4 proof nodes"):
        inclusion_nodes(1, 7).rehash([b"\x00" * 32])


def test_nodes_are_named_tuples_storage_can_unpack() -> None:
    (node,) = CompactRange().append(leaf_hash(b""))
    node_id, value = node
    assert node == Node(id=_n(0, 0), hash=value)
    assert node_id == _n(0, 0)
