"""The fast tree against the naive RFC 9162 reference (``reference.py``), with Hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger import reference
from vigile.ledger.compact import CompactRange, MemoryTree
from vigile.ledger.hashing import leaf_hash, root_of
from vigile.ledger.proof import verify_consistency, verify_inclusion

LEAF = st.binary(max_size=24)
LEAVES = st.lists(LEAF, min_size=1, max_size=300)


def _tree(leaves: list[bytes]) -> MemoryTree:
    tree = MemoryTree()
    tree.extend(leaves)
    return tree


@settings(max_examples=60, deadline=None)
@given(leaves=st.lists(LEAF, max_size=300))
def test_roots_at_every_earlier_size(leaves: list[bytes]) -> None:
    tree = _tree(leaves)
    compact = CompactRange()
    for size in range(len(leaves) + 1):
        expected = reference.mth(leaves[:size])
        assert tree.root(size) == expected
        assert compact.root() == expected
        if size < len(leaves):
            compact.append(leaf_hash(leaves[size]))
    assert tree.root() == reference.mth(leaves)
    assert root_of([leaf_hash(leaf) for leaf in leaves]) == reference.mth(leaves)


@settings(max_examples=200, deadline=None)
@given(leaves=LEAVES, data=st.data())
def test_inclusion_proofs(leaves: list[bytes], data: st.DataObject) -> None:
    tree = _tree(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    expected = reference.path(index, leaves[:size])
    assert tree.inclusion_proof(index, size) == expected
    verify_inclusion(leaf_hash(leaves[index]), index, size, expected, tree.root(size))


@settings(max_examples=200, deadline=None)
@given(leaves=LEAVES, data=st.data())
def test_consistency_proofs(leaves: list[bytes], data: st.DataObject) -> None:
    tree = _tree(leaves)
    size2 = data.draw(st.integers(1, len(leaves)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    expected = reference.proof(size1, leaves[:size2])
    assert tree.consistency_proof(size1, size2) == expected
    verify_consistency(size1, size2, expected, tree.root(size1), tree.root(size2))


@settings(max_examples=30, deadline=None)
@given(leaves=st.lists(LEAF, min_size=1, max_size=40))
def test_every_proof_of_small_trees(leaves: list[bytes]) -> None:
    tree = _tree(leaves)
    for size2 in range(1, len(leaves) + 1):
        prefix = leaves[:size2]
        for index in range(size2):
            assert tree.inclusion_proof(index, size2) == reference.path(index, prefix)
        for size1 in range(1, size2 + 1):
            assert tree.consistency_proof(size1, size2) == reference.proof(size1, prefix)
