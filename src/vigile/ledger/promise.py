"""Signed promises of inclusion: what an answer carries before its event is in the tree.

As Certificate Transparency's signed certificate timestamp (RFC 6962, section 3.2), a
promise is the log key's signature over what was stored and when: the integrator extends
the tree apart from the requests, and the promise is checkable offline, with the log's
public key alone, until an inclusion proof under a checkpoint honours it.

A promise is a signed note (c2sp.org/signed-note, :mod:`vigile.ledger.note`) by the
ledger's key, whose text is exactly these five lines, each ending in ``\\n``::

    <origin>\\n                           the log's name, as in its checkpoints
    vigile-inclusion-promise/v1\\n        what the note is (a checkpoint has a size here)
    <leaf index>\\n                       decimal, the event's ``seq``
    <base64 leaf hash>\\n                 RFC 9162: SHA-256(0x00 || leaf bytes)
    <time stored>\\n                      RFC 3339 UTC with microseconds

The Ed25519 signature is over those bytes (UTF-8), as for every signed note; its second
line cannot be a tree size, so a promise can never be taken for a checkpoint. The log
promises that the leaf with this hash is entry ``<leaf index>`` of its tree, in every
checkpoint of a larger size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from vigile.ledger.encoding import decode_b64, encode_b64
from vigile.ledger.errors import CheckpointError
from vigile.ledger.hashing import HASH_SIZE
from vigile.ledger.note import Signer, Verifier, open_note, sign_note

__all__ = ["PROMISE_KIND", "Promise", "open_promise", "sign_promise"]

PROMISE_KIND = "vigile-inclusion-promise/v1"
_INDEX = re.compile(r"0|[1-9][0-9]{0,18}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, kw_only=True, slots=True)
class Promise:
    """The log's word that leaf ``leaf_hash`` is its entry ``index``, stored at ``time``."""

    origin: str
    index: int
    leaf_hash: bytes
    time: datetime

    def text(self) -> str:
        """The note text the signature covers."""
        moment = self.time.astimezone(UTC).strftime(_TIME_FORMAT)
        return (
            f"{self.origin}\n{PROMISE_KIND}\n{self.index}\n{encode_b64(self.leaf_hash)}\n{moment}\n"
        )


def sign_promise(promise: Promise, signer: Signer) -> str:
    """The signed note of ``promise``."""
    return sign_note(promise.text(), [signer])


def open_promise(note: str, verifier: Verifier, *, origin: str | None = None) -> Promise:
    """The promise in ``note`` once its signature by ``verifier`` checks;
    :class:`CheckpointError` when it does not, or the text is not a promise."""
    lines = open_note(note, verifier).split("\n")
    if len(lines) != 6 or lines[5] != "" or lines[1] != PROMISE_KIND:
        raise CheckpointError(f"not an inclusion promise ({PROMISE_KIND})")
    if origin is not None and lines[0] != origin:
        raise CheckpointError(f"promise of log {lines[0]!r}, expected {origin!r}")
    if not _INDEX.fullmatch(lines[2]):
        raise CheckpointError(f"promise: leaf index {lines[2]!r} is not a decimal number")
    digest = decode_b64(lines[3])
    if digest is None or len(digest) != HASH_SIZE:
        raise CheckpointError(f"promise: {lines[3]!r} is not a base64 SHA-256 leaf hash")
    if not _TIME.fullmatch(lines[4]):
        raise CheckpointError(f"promise: time {lines[4]!r} is not RFC 3339 UTC microseconds")
    moment = datetime.strptime(lines[4], _TIME_FORMAT).replace(tzinfo=UTC)
    return Promise(origin=lines[0], index=int(lines[2]), leaf_hash=digest, time=moment)
