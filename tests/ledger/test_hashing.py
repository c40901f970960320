"""Known answers for RFC 9162 hashing, from transparency-dev/merkle ``testonly/constants.go``.

The file is kept as ``tests/ledger/vectors/merkle/constants.go.txt`` (see SOURCE.md
there); its ``hd("…")`` literals are read straight from the Go source so no value is
retyped here.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.ledger.testdata import MERKLE_VECTORS
from vigile.ledger.compact import CompactRange, MemoryTree
from vigile.ledger.hashing import EMPTY_ROOT, leaf_hash, node_hash, root_of
from vigile.ledger.nodes import NodeId

_SOURCE = (MERKLE_VECTORS / "constants.go.txt").read_text(encoding="utf-8")


def _hex_literals(function: str) -> list[bytes]:
    """The hd("…") values in the body of one Go function of constants.go."""
    body = _SOURCE.split(f"func {function}()", 1)[1].split("\nfunc ", 1)[0]
    return [bytes.fromhex(h) for h in re.findall(r'hd\("([0-9a-f]*)"\)', body)]


LEAVES = _hex_literals("LeafInputs")
ROOTS = [EMPTY_ROOT, *_hex_literals("RootHashes")]  # RootHashes()[0] is EmptyRootHash()
NODE_ROWS = [8, 4, 2, 1]  # NodeHashes(): level 0..3 of the tree of 8 leaves
NODES = _hex_literals("NodeHashes")


def test_known_answers_were_read() -> None:
    assert len(LEAVES) == 8
    assert len(ROOTS) == 9
    assert len(NODES) == sum(NODE_ROWS)
    assert _hex_literals("EmptyRootHash") == [EMPTY_ROOT]


def test_empty_root_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_leaf_and_node_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )


@pytest.mark.parametrize("size", range(9))
def test_known_root_of_every_size(size: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES[:size]]
    assert root_of(hashes) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_compact_range_and_memory_tree_roots(size: int) -> None:
    compact, tree = CompactRange(), MemoryTree()
    for leaf in LEAVES[:size]:
        compact.append(leaf_hash(leaf))
        tree.append(leaf)
    assert compact.root() == tree.root() == ROOTS[size]


def test_every_perfect_node_of_the_tree_of_eight() -> None:
    tree = MemoryTree()
    tree.extend(LEAVES)
    expected = iter(NODES)
    for level, count in enumerate(NODE_ROWS):
        ids = [NodeId(level=level, index=i) for i in range(count)]
        assert tree.get_nodes(ids) == [next(expected) for _ in ids]


def test_every_earlier_root_from_perfect_nodes() -> None:
    tree = MemoryTree()
    tree.extend(LEAVES)
    assert [tree.root(size) for size in range(9)] == ROOTS
