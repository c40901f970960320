"""Many inclusion proofs from one node fetch equal the proofs built one at a time."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from vigile.ledger import MemoryTree, NodeId, inclusion_proof
from vigile.transparency.proofs import inclusion_proofs


class CountingReader:
    """A node reader that counts round trips."""

    def __init__(self, tree: MemoryTree) -> None:
        self.tree = tree
        self.calls = 0

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        self.calls += 1
        return self.tree.get_nodes(ids)


def tree_of(size: int) -> MemoryTree:
    tree = MemoryTree()
    tree.extend(f"leaf {i}".encode() for i in range(size))
    return tree


@given(size=st.integers(1, 70), data=st.data())
def test_batched_proofs_equal_single_proofs(size: int, data: st.DataObject) -> None:
    tree = tree_of(size + data.draw(st.integers(0, 5)))  # the tree may have grown since
    indices = data.draw(st.lists(st.integers(0, size + 3), max_size=12))
    reader = CountingReader(tree)
    proofs = inclusion_proofs(reader, indices, size)
    assert set(proofs) == {index for index in indices if index < size}
    for index, proof in proofs.items():
        assert proof == inclusion_proof(tree, index, size)
    assert reader.calls <= 1


def test_no_index_in_the_tree_needs_no_fetch() -> None:
    reader = CountingReader(tree_of(4))
    assert inclusion_proofs(reader, [4, 9], 4) == {}
    assert reader.calls == 0
