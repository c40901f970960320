"""Errors of the access ledger.

Every error carries the context a reader needs to act on it: the leaf index and tree
sizes of a proof, the line of a checkpoint note, the path of a key file::

    VigileError
    └── InternalError
        └── LedgerError             anything the ledger refuses
            ├── ProofError          a proof is malformed, impossible or does not verify
            ├── TreeSizeError       a size or index beyond what the tree holds
            ├── HashSizeError       a leaf or node hash that is not 32 bytes
            ├── MissingNodeError    a node reader lacks (or mangles) a node hash
            ├── CheckpointError     a checkpoint or signed note is malformed or badly signed
            ├── SigningKeyError     a key is malformed, or its key file is unusable or too open
            └── BundleError         a proof bundle (JSON) is malformed

Over HTTP every one is the server's fault (a 500): what a caller gets wrong about the
ledger is refused before it, as :class:`~vigile.transparency.SizeOutOfRange`. The CLI,
which also checks proofs and checkpoints a user hands it, prints the message.
"""

from __future__ import annotations

from vigile.errors import InternalError

__all__ = [
    "BundleError",
    "CheckpointError",
    "HashSizeError",
    "LedgerError",
    "MissingNodeError",
    "ProofError",
    "SigningKeyError",
    "TreeSizeError",
]


class LedgerError(InternalError):
    """Root of the errors the ledger raises on purpose."""


class ProofError(LedgerError):
    """An inclusion or consistency proof is malformed, impossible, or does not verify.

    Carries whichever of ``leaf_index``, ``tree_size``, ``size1`` and ``size2`` apply, so
    a caller can report which proof failed without parsing the message.
    """

    def __init__(
        self,
        message: str,
        *,
        leaf_index: int | None = None,
        tree_size: int | None = None,
        size1: int | None = None,
        size2: int | None = None,
    ) -> None:
        self.reason = message
        self.leaf_index = leaf_index
        self.tree_size = tree_size
        self.size1 = size1
        self.size2 = size2
        super().__init__(_with_context(message, leaf_index, tree_size, size1, size2))


def _with_context(
    message: str,
    leaf_index: int | None,
    tree_size: int | None,
    size1: int | None,
    size2: int | None,
) -> str:
    parts = []
    if leaf_index is not None:
        parts.append(f"leaf {leaf_index}")
    if tree_size is not None:
        parts.append(f"tree size {tree_size}")
    if size1 is not None and size2 is not None:
        parts.append(f"sizes {size1} -> {size2}")
    return f"{', '.join(parts)}: {message}" if parts else message


class TreeSizeError(LedgerError):
    """A requested size or leaf index lies beyond the tree's current size."""

    def __init__(self, message: str, *, requested: int, tree_size: int) -> None:
        self.requested = requested
        self.tree_size = tree_size
        super().__init__(f"{message} (requested {requested}, tree size {tree_size})")


class HashSizeError(LedgerError):
    """A leaf or node hash given to the tree is not a SHA-256 hash (32 bytes)."""

    def __init__(self, what: str, size: int) -> None:
        self.what = what
        self.size = size
        super().__init__(f"{what} has {size} bytes, want 32")


class MissingNodeError(LedgerError):
    """A node reader lacks a node hash the tree needs, or returned a malformed one."""

    def __init__(self, message: str, *, level: int | None = None, index: int | None = None) -> None:
        self.level = level
        self.index = index
        where = f"node (level {level}, index {index}): " if level is not None else ""
        super().__init__(f"{where}{message}")


class CheckpointError(LedgerError):
    """A checkpoint or signed note is malformed, unsigned by the expected key, or badly signed.

    ``line`` is the 1-based line of the note where the problem is, when there is one.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.reason = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


class SigningKeyError(LedgerError):
    """A signer or verifier key is malformed, or its key file cannot be used safely.

    ``path`` names the key file when the key came from one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}" if path is not None else message)


class BundleError(LedgerError):
    """A proof bundle is not valid JSON or a field of it is missing or malformed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}" if field is not None else message)
