"""Fuzz targets: the parsers that take bytes from outside Vigile.

Each target takes arbitrary bytes and either returns or raises one of the errors it
declares (its contract); any other exception is a crash. The same targets run under
Hypothesis in every test run (``test_targets.py``) and under Atheris, coverage-guided, in
a short run in CI and a longer one by hand (``python -m tests.fuzz.run``).

- ``activity_log_lines``: lines of an activity log, decoded as ``vigile ingest`` does;
- ``activity_log_file``: a whole file, plain or gzip, through the streaming reader;
- ``signed_note``: a C2SP signed note, opened with the log's verifier key;
- ``checkpoint``: a checkpoint's text (the note's message), signed, then parsed;
- ``proof_bundle``: an inclusion proof bundle checked against a real checkpoint;
- ``verifier_key``: a verifier key as ``vigile ledger`` reads it from a file;
- ``mail_message``: a message checked for phishing (``vigile mail check``,
  ``POST /v1/mail/check``), which must never raise at all.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vigile.activitylog.reader import ActivityLogReader, decode_chunk
from vigile.errors import InputError
from vigile.ledger import (
    CheckpointError,
    LedgerError,
    MemoryTree,
    Signer,
    SigningKeyError,
    Verifier,
    open_note,
    parse_and_verify,
    sign_checkpoint,
    sign_note,
)
from vigile.ledger.checkpoint import Checkpoint
from vigile.ledger.encoding import encode_b64
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.verify_proofs import verify_inclusion_bundle
from vigile.phishing import Guard, ProviderDomains

__all__ = ["TARGETS", "Target"]

ORIGIN = "fuzz.vigile.example/log"
_GOLDEN_MAIL = Path(__file__).parents[1] / "phishing" / "golden"


@dataclass(frozen=True, slots=True)
class Target:
    """A parser under test and the errors it may raise on bad input."""

    name: str
    run: Callable[[bytes], object]
    expected: tuple[type[BaseException], ...]

    def check(self, data: bytes) -> None:
        """Run on ``data``; a declared error is a refusal, anything else propagates."""
        with contextlib.suppress(*self.expected):
            self.run(data)


@cache
def _signer() -> Signer:
    # A fixed seed: the same key in every process, so a crash replays.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    return Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


@cache
def _log() -> tuple[str, list[bytes]]:
    """A checkpoint of a five-entry log and its leaves."""
    leaves = [f"entry {n}".encode() for n in range(5)]
    tree = MemoryTree()
    tree.extend(leaves)
    note = sign_checkpoint(Checkpoint(origin=ORIGIN, size=5, root=tree.root()), _signer())
    return note, leaves


def _lines(data: bytes) -> object:
    """Decode errors are collected, never raised: the target returns them."""
    return decode_chunk("fuzz.jsonl", (1, data.split(b"\n")))


def _file(data: bytes) -> object:
    with tempfile.TemporaryDirectory(prefix="vigile-fuzz-") as folder:
        path = Path(folder) / "fuzz.jsonl.gz"
        path.write_bytes(data)
        reader = ActivityLogReader(path, skip_invalid=True)
        return sum(len(chunk.records) for chunk in reader.decoded_chunks(64))


def _note(data: bytes) -> object:
    return open_note(data, _signer().verifier)


def _checkpoint(data: bytes) -> object:
    text = data.decode("utf-8", errors="replace")
    return parse_and_verify(sign_note(text, [_signer()]), _signer().verifier)


def _bundle(data: bytes) -> object:
    note, _ = _log()
    return verify_inclusion_bundle(verifier=_signer().verifier, checkpoint_note=note, bundle=data)


@cache
def _guard() -> Guard:
    return Guard(provider=ProviderDomains.of(("vigile.example",)), names=("Vigile",))


def _mail(data: bytes) -> object:
    return _guard().check(data).to_json()


def _verifier_key(data: bytes) -> object:
    return Verifier.from_vkey(data.decode("utf-8", errors="replace"))


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target("activity_log_lines", _lines, ()),
        Target("activity_log_file", _file, (InputError,)),
        Target("signed_note", _note, (CheckpointError,)),
        Target("checkpoint", _checkpoint, (CheckpointError,)),
        Target("proof_bundle", _bundle, (LedgerError,)),
        Target("verifier_key", _verifier_key, (SigningKeyError,)),
        Target("mail_message", _mail, ()),
    )
}


def seeds() -> dict[str, list[bytes]]:
    """A valid input of each target, to start mutating from."""
    note, leaves = _log()
    tree = MemoryTree()
    tree.extend(leaves)
    bundle = {
        "leaf_index": 2,
        "tree_size": 5,
        "leaf": encode_b64(leaves[2]),
        "leaf_hash": encode_b64(leaf_hash(leaves[2])),
        "proof": [encode_b64(node) for node in tree.inclusion_proof(2, 5)],
        "root": encode_b64(tree.root()),
    }
    example = (Path(__file__).parents[1] / "data" / "spec-example.jsonl").read_bytes()
    return {
        "activity_log_lines": [example],
        "activity_log_file": [example],
        "signed_note": [note.encode()],
        "checkpoint": [note.split("\n\n", 1)[0].encode() + b"\n"],
        "proof_bundle": [json.dumps(bundle).encode()],
        "verifier_key": [_signer().verifier.vkey.encode()],
        "mail_message": [(_GOLDEN_MAIL / "en-targeted.eml").read_bytes()],
    }
