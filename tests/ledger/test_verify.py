"""Offline verification of proof bundles against signed checkpoints, end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vigile import ledger
from vigile.errors import VigileError
from vigile.ledger.checkpoint import Checkpoint, sign_checkpoint
from vigile.ledger.compact import MemoryTree
from vigile.ledger.encoding import encode_b64
from vigile.ledger.errors import BundleError, CheckpointError, LedgerError, ProofError
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.note import Signer
from vigile.ledger.verify_proofs import (
    ConsistencyBundle,
    InclusionBundle,
    verify_consistency_bundle,
    verify_inclusion_bundle,
)

SIGNER = Signer.generate("vigile.example/ledger")
VERIFIER = SIGNER.verifier
ENTRIES = [f"access {i}".encode() for i in range(23)]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    tree = MemoryTree()
    tree.extend(ENTRIES)
    return tree


def _note(tree: MemoryTree, size: int) -> str:
    checkpoint = Checkpoint(origin=VERIFIER.name, size=size, root=tree.root(size))
    return sign_checkpoint(checkpoint, SIGNER)


def _inclusion(tree: MemoryTree, index: int, size: int) -> dict[str, Any]:
    return InclusionBundle(
        leaf_index=index,
        tree_size=size,
        leaf=ENTRIES[index],
        leaf_hash=leaf_hash(ENTRIES[index]),
        proof=tuple(tree.inclusion_proof(index, size)),
        root=tree.root(size),
    ).to_json()


def _consistency(tree: MemoryTree, size1: int, size2: int) -> dict[str, Any]:
    return ConsistencyBundle(
        size1=size1,
        size2=size2,
        root1=tree.root(size1),
        root2=tree.root(size2),
        proof=tuple(tree.consistency_proof(size1, size2)),
    ).to_json()


def test_inclusion_bundle_as_json_text(tree: MemoryTree) -> None:
    bundle = json.dumps(_inclusion(tree, 5, 23))
    result = verify_inclusion_bundle(
        verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=bundle
    )
    assert result.leaf_index == 5
    assert result.leaf_hash == leaf_hash(ENTRIES[5])
    assert result.checkpoint.size == 23


@pytest.mark.parametrize("drop", ["leaf", "leaf_hash"])
def test_inclusion_bundle_with_leaf_or_hash_only(tree: MemoryTree, drop: str) -> None:
    bundle = _inclusion(tree, 22, 23)
    del bundle[drop]
    verify_inclusion_bundle(verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=bundle)


def test_bundles_round_trip_through_json(tree: MemoryTree) -> None:
    bundle = _inclusion(tree, 3, 11)
    assert InclusionBundle.from_json(json.dumps(bundle)).to_json() == bundle
    other = _consistency(tree, 4, 11)
    assert ConsistencyBundle.from_json(json.dumps(other).encode()).to_json() == other


def test_inclusion_for_another_size_than_the_checkpoint(tree: MemoryTree) -> None:
    with pytest.raises(
        ProofError, match="leaf 5, tree size 22: the checkpoint is for tree size 23"
    ):
        verify_inclusion_bundle(
            verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=_inclusion(tree, 5, 22)
        )


def test_inclusion_with_a_root_other_than_the_checkpoint(tree: MemoryTree) -> None:
    bundle = _inclusion(tree, 5, 23)
    bundle["root"] = encode_b64(tree.root(22))
    with pytest.raises(ProofError, match="not the checkpoint's root"):
        verify_inclusion_bundle(verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=bundle)


def test_inclusion_of_a_leaf_that_is_not_there(tree: MemoryTree) -> None:
    bundle = _inclusion(tree, 5, 23)
    del bundle["leaf_hash"]
    bundle["leaf"] = encode_b64(b"access forged")
    with pytest.raises(ProofError, match="does not match"):
        verify_inclusion_bundle(verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=bundle)


def test_inclusion_with_a_tampered_proof(tree: MemoryTree) -> None:
    bundle = _inclusion(tree, 5, 23)
    bundle["proof"][1] = encode_b64(bytes(32))
    with pytest.raises(ProofError):
        verify_inclusion_bundle(verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=bundle)


def test_checkpoint_of_another_key_is_refused(tree: MemoryTree) -> None:
    note = sign_checkpoint(
        Checkpoint(origin=VERIFIER.name, size=23, root=tree.root()), Signer.generate(VERIFIER.name)
    )
    with pytest.raises(CheckpointError, match="no signature by key"):
        verify_inclusion_bundle(
            verifier=VERIFIER, checkpoint_note=note, bundle=_inclusion(tree, 0, 23)
        )


def test_consistency_bundle_with_both_checkpoints(tree: MemoryTree) -> None:
    result = verify_consistency_bundle(
        verifier=VERIFIER,
        checkpoint_note=_note(tree, 23),
        previous_note=_note(tree, 9),
        bundle=json.dumps(_consistency(tree, 9, 23)),
    )
    assert result.size1 == 9
    assert result.previous is not None
    assert result.previous.root == tree.root(9)


def test_consistency_bundle_without_the_older_checkpoint(tree: MemoryTree) -> None:
    result = verify_consistency_bundle(
        verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=_consistency(tree, 9, 23)
    )
    assert result.previous is None


def test_consistency_to_another_size_than_the_checkpoint(tree: MemoryTree) -> None:
    with pytest.raises(ProofError, match="sizes 9 -> 22: size2 is not the checkpoint's size 23"):
        verify_consistency_bundle(
            verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=_consistency(tree, 9, 22)
        )


def test_consistency_from_another_checkpoint_than_the_previous(tree: MemoryTree) -> None:
    with pytest.raises(ProofError, match="size1 is not the checkpoint's size 10"):
        verify_consistency_bundle(
            verifier=VERIFIER,
            checkpoint_note=_note(tree, 23),
            previous_note=_note(tree, 10),
            bundle=_consistency(tree, 9, 23),
        )


def test_consistency_of_a_forked_log(tree: MemoryTree) -> None:
    fork = MemoryTree()
    fork.extend([*ENTRIES[:8], b"rewritten history", *ENTRIES[9:]])
    bundle = _consistency(tree, 9, 23)
    bundle["root1"] = encode_b64(fork.root(9))
    with pytest.raises(ProofError, match="does not lead to root1"):
        verify_consistency_bundle(verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=bundle)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"leaf_index": True}, "leaf_index: must be a non-negative integer"),
        ({"tree_size": -1}, "tree_size: must be a non-negative integer"),
        ({"root": "not base64!"}, "root: must be canonical standard base64"),
        ({"root": encode_b64(bytes(31))}, "root: has 31 bytes, want 32"),
        ({"proof": "abc"}, "proof: must be a list"),
        ({"proof": [encode_b64(bytes(33))]}, r"proof\[0\]: has 33 bytes"),
        ({"leaf_hash": encode_b64(bytes(32))}, "leaf_hash: the leaf does not hash to leaf_hash"),
        ({"leaf": None, "leaf_hash": None}, "leaf_hash: give the leaf, its hash, or both"),
        ({"leaf_idx": 3}, "unknown field"),
    ],
)
def test_malformed_inclusion_bundles(
    tree: MemoryTree, change: dict[str, Any], message: str
) -> None:
    bundle = {**_inclusion(tree, 5, 23), **change}
    with pytest.raises(BundleError, match=message):
        verify_inclusion_bundle(verifier=VERIFIER, checkpoint_note=_note(tree, 23), bundle=bundle)


@pytest.mark.parametrize(("text", "message"), [("{", "not JSON"), ("[]", "a JSON object")])
def test_bundles_that_are_not_json_objects(text: str, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        ConsistencyBundle.from_json(text)


def test_missing_field() -> None:
    with pytest.raises(BundleError, match="size2: missing"):
        ConsistencyBundle.from_json({"size1": 1})


def test_every_refusal_is_a_vigile_error() -> None:
    assert issubclass(BundleError, LedgerError)
    assert issubclass(LedgerError, VigileError)


def test_public_surface_is_explicit() -> None:
    assert len(ledger.__all__) == len(set(ledger.__all__))
    for name in ledger.__all__:
        assert getattr(ledger, name) is not None, name
