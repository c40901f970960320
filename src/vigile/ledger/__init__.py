"""Vigile's access ledger: an RFC 9162 Merkle log with signed checkpoints.

The pure core, no I/O but key files:

- :mod:`~vigile.ledger.hashing` leaf and node hashes;
- :mod:`~vigile.ledger.nodes` addresses of perfect subtrees;
- :mod:`~vigile.ledger.proof` which nodes a proof needs, and the verifiers;
- :mod:`~vigile.ledger.compact` appending, :class:`NodeReader` for storage, :class:`MemoryTree`;
- :mod:`~vigile.ledger.note`, :mod:`~vigile.ledger.checkpoint`, :mod:`~vigile.ledger.keyfile`
  signed checkpoints (c2sp.org/tlog-checkpoint) and their keys;
- :mod:`~vigile.ledger.verify_proofs` offline checks of proof bundles against a checkpoint.
"""

from vigile.ledger.checkpoint import Checkpoint, parse_and_verify, sign_checkpoint
from vigile.ledger.compact import (
    CompactRange,
    MemoryTree,
    Node,
    NodeReader,
    consistency_proof,
    inclusion_proof,
    root_at,
)
from vigile.ledger.errors import (
    BundleError,
    CheckpointError,
    HashSizeError,
    LedgerError,
    MissingNodeError,
    ProofError,
    SigningKeyError,
    TreeSizeError,
)
from vigile.ledger.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash, root_of
from vigile.ledger.keyfile import (
    generate_key_files,
    load_signer,
    load_verifier,
    write_signer_key,
    write_verifier_key,
)
from vigile.ledger.nodes import NodeId, range_nodes
from vigile.ledger.note import Signer, Verifier, open_note, sign_note
from vigile.ledger.proof import (
    ProofNodes,
    consistency_nodes,
    inclusion_nodes,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from vigile.ledger.verify_proofs import (
    ConsistencyBundle,
    ConsistencyVerified,
    InclusionBundle,
    InclusionVerified,
    verify_consistency_bundle,
    verify_inclusion_bundle,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "BundleError",
    "Checkpoint",
    "CheckpointError",
    "CompactRange",
    "ConsistencyBundle",
    "ConsistencyVerified",
    "HashSizeError",
    "InclusionBundle",
    "InclusionVerified",
    "LedgerError",
    "MemoryTree",
    "MissingNodeError",
    "Node",
    "NodeId",
    "NodeReader",
    "ProofError",
    "ProofNodes",
    "Signer",
    "SigningKeyError",
    "TreeSizeError",
    "Verifier",
    "consistency_nodes",
    "consistency_proof",
    "generate_key_files",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "load_signer",
    "load_verifier",
    "node_hash",
    "open_note",
    "parse_and_verify",
    "range_nodes",
    "root_at",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "root_of",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_consistency_bundle",
    "verify_inclusion",
    "verify_inclusion_bundle",
    "write_signer_key",
    "write_verifier_key",
]
