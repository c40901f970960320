"""Offline verification of ledger proofs against a signed checkpoint.

Whoever holds the log's verifier key (a customer, an auditor) can check, without
trusting Vigile's servers, that an access entry is in the ledger and that the ledger was
only ever appended to. A proof travels as a JSON *bundle*, hashes in standard base64::

    inclusion:   {"leaf_index", "tree_size", "leaf", "leaf_hash", "proof": [...], "root"}
    consistency: {"size1", "size2", "root1", "root2", "proof": [...]}

``leaf`` (the entry's bytes) and ``leaf_hash`` may each be left out, not both; when both
are given the leaf must hash to ``leaf_hash``. Unknown fields are refused, so a
misspelt field cannot silently drop a check.

Each check verifies the checkpoint's signature first, then that the bundle speaks of
the checkpoint's size and root, then the proof itself. Everything here is pure: texts
in, a result or a :class:`~vigile.ledger.errors.LedgerError` out. Reading files and
printing belong to the CLI.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vigile.ledger.checkpoint import Checkpoint, parse_and_verify
from vigile.ledger.encoding import decode_b64, encode_b64
from vigile.ledger.errors import BundleError, ProofError
from vigile.ledger.hashing import HASH_SIZE, leaf_hash
from vigile.ledger.note import Verifier
from vigile.ledger.proof import verify_consistency, verify_inclusion

__all__ = [
    "ConsistencyBundle",
    "ConsistencyVerified",
    "InclusionBundle",
    "InclusionVerified",
    "verify_consistency_bundle",
    "verify_inclusion_bundle",
]

_INCLUSION_FIELDS = {"leaf_index", "tree_size", "leaf", "leaf_hash", "proof", "root"}
_CONSISTENCY_FIELDS = {"size1", "size2", "root1", "root2", "proof"}


@dataclass(frozen=True, kw_only=True)
class InclusionBundle:
    """An inclusion proof of leaf ``leaf_index`` in the tree of ``tree_size`` and ``root``."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    root: bytes
    leaf: bytes | None = None

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> InclusionBundle:
        """Parse a bundle from JSON text or an already decoded object."""
        fields = _object(data, _INCLUSION_FIELDS)
        leaf = _optional_b64(fields, "leaf")
        given_hash = _optional_b64(fields, "leaf_hash", size=HASH_SIZE)
        return cls(
            leaf_index=_size(fields, "leaf_index"),
            tree_size=_size(fields, "tree_size"),
            leaf_hash=_leaf_hash(leaf, given_hash),
            proof=_proof(fields),
            root=_b64(fields, "root", size=HASH_SIZE),
            leaf=leaf,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the bundle as a JSON-ready object."""
        out: dict[str, Any] = {"leaf_index": self.leaf_index, "tree_size": self.tree_size}
        if self.leaf is not None:
            out["leaf"] = encode_b64(self.leaf)
        out["leaf_hash"] = encode_b64(self.leaf_hash)
        out["proof"] = [encode_b64(value) for value in self.proof]
        out["root"] = encode_b64(self.root)
        return out


@dataclass(frozen=True, kw_only=True)
class ConsistencyBundle:
    """A consistency proof that the tree of ``size2`` extends the tree of ``size1``."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: tuple[bytes, ...]

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> ConsistencyBundle:
        """Parse a bundle from JSON text or an already decoded object."""
        fields = _object(data, _CONSISTENCY_FIELDS)
        return cls(
            size1=_size(fields, "size1"),
            size2=_size(fields, "size2"),
            root1=_b64(fields, "root1", size=HASH_SIZE),
            root2=_b64(fields, "root2", size=HASH_SIZE),
            proof=_proof(fields),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the bundle as a JSON-ready object."""
        return {
            "size1": self.size1,
            "size2": self.size2,
            "root1": encode_b64(self.root1),
            "root2": encode_b64(self.root2),
            "proof": [encode_b64(value) for value in self.proof],
        }


@dataclass(frozen=True, kw_only=True)
class InclusionVerified:
    """What a successful inclusion check established."""

    checkpoint: Checkpoint
    leaf_index: int
    leaf_hash: bytes


@dataclass(frozen=True, kw_only=True)
class ConsistencyVerified:
    """What a successful consistency check established.

    ``previous`` is the older checkpoint when one was given and checked, else None:
    then ``root1`` is only as trustworthy as wherever the caller got it from.
    """

    checkpoint: Checkpoint
    size1: int
    root1: bytes
    previous: Checkpoint | None


def verify_inclusion_bundle(
    *,
    verifier: Verifier,
    checkpoint_note: str | bytes,
    bundle: str | bytes | Mapping[str, Any] | InclusionBundle,
    origin: str | None = None,
) -> InclusionVerified:
    """Check an inclusion bundle against a checkpoint signed by ``verifier``.

    The bundle's tree size and root must be the checkpoint's. ``origin`` defaults to
    the verifier's key name (see :func:`~vigile.ledger.checkpoint.parse_and_verify`).
    """
    checkpoint = parse_and_verify(checkpoint_note, verifier, origin=origin)
    proof = bundle if isinstance(bundle, InclusionBundle) else InclusionBundle.from_json(bundle)
    context = {"leaf_index": proof.leaf_index, "tree_size": proof.tree_size}
    if proof.tree_size != checkpoint.size:
        raise ProofError(f"the checkpoint is for tree size {checkpoint.size}", **context)
    if not hmac.compare_digest(proof.root, checkpoint.root):
        raise ProofError("the bundle's root is not the checkpoint's root", **context)
    verify_inclusion(
        proof.leaf_hash, proof.leaf_index, proof.tree_size, proof.proof, checkpoint.root
    )
    return InclusionVerified(
        checkpoint=checkpoint, leaf_index=proof.leaf_index, leaf_hash=proof.leaf_hash
    )


def verify_consistency_bundle(
    *,
    verifier: Verifier,
    checkpoint_note: str | bytes,
    bundle: str | bytes | Mapping[str, Any] | ConsistencyBundle,
    previous_note: str | bytes | None = None,
    origin: str | None = None,
) -> ConsistencyVerified:
    """Check a consistency bundle that leads to a checkpoint signed by ``verifier``.

    ``size2`` and ``root2`` must be the checkpoint's. With ``previous_note``, the older
    checkpoint is verified too and ``size1`` and ``root1`` must be its own.
    """
    checkpoint = parse_and_verify(checkpoint_note, verifier, origin=origin)
    proof = bundle if isinstance(bundle, ConsistencyBundle) else ConsistencyBundle.from_json(bundle)
    _matches(proof.size2, proof.root2, checkpoint, "size2", proof)
    previous = None
    if previous_note is not None:
        previous = parse_and_verify(previous_note, verifier, origin=origin)
        _matches(proof.size1, proof.root1, previous, "size1", proof)
    verify_consistency(proof.size1, proof.size2, proof.proof, proof.root1, proof.root2)
    return ConsistencyVerified(
        checkpoint=checkpoint, size1=proof.size1, root1=proof.root1, previous=previous
    )


def _matches(
    size: int, root: bytes, checkpoint: Checkpoint, which: str, proof: ConsistencyBundle
) -> None:
    sizes = {"size1": proof.size1, "size2": proof.size2}
    if size != checkpoint.size:
        raise ProofError(f"{which} is not the checkpoint's size {checkpoint.size}", **sizes)
    if not hmac.compare_digest(root, checkpoint.root):
        raise ProofError(f"the root at {which} is not the checkpoint's root", **sizes)


def _object(data: str | bytes | Mapping[str, Any], allowed: set[str]) -> Mapping[str, Any]:
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BundleError(f"not JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise BundleError("a proof bundle is a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BundleError(f"unknown field(s) {', '.join(unknown)}")
    return data


def _size(fields: Mapping[str, Any], name: str) -> int:
    value = _required(fields, name)
    # bool is an int in Python, and true is not a tree size.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BundleError("must be a non-negative integer", field=name)
    return value


def _b64(fields: Mapping[str, Any], name: str, *, size: int | None = None) -> bytes:
    value = _required(fields, name)
    raw = decode_b64(value) if isinstance(value, str) else None
    if raw is None:
        raise BundleError("must be canonical standard base64", field=name)
    if size is not None and len(raw) != size:
        raise BundleError(f"has {len(raw)} bytes, want {size}", field=name)
    return raw


def _optional_b64(fields: Mapping[str, Any], name: str, *, size: int | None = None) -> bytes | None:
    if fields.get(name) is None:
        return None
    return _b64(fields, name, size=size)


def _proof(fields: Mapping[str, Any]) -> tuple[bytes, ...]:
    values = fields.get("proof")
    if values is None:  # transparency-dev writes an empty proof as null
        return ()
    if not isinstance(values, list):
        raise BundleError("must be a list of base64 hashes", field="proof")
    return tuple(
        _b64({f"proof[{i}]": value}, f"proof[{i}]", size=HASH_SIZE)
        for i, value in enumerate(values)
    )


def _leaf_hash(leaf: bytes | None, given: bytes | None) -> bytes:
    if leaf is None:
        if given is None:
            raise BundleError("give the leaf, its hash, or both", field="leaf_hash")
        return given
    computed = leaf_hash(leaf)
    if given is not None and not hmac.compare_digest(computed, given):
        raise BundleError("the leaf does not hash to leaf_hash", field="leaf_hash")
    return computed


def _required(fields: Mapping[str, Any], name: str) -> Any:
    if name not in fields:
        raise BundleError("missing", field=name)
    return fields[name]
