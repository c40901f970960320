"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, as Go's ``sumdb/note`` reads them.

A note is a text ending in a newline, a blank line, then signature lines::

    <text>\\n
    \\n
    — <key name> <base64(key id (4 bytes) || Ed25519 signature)>\\n

The key id is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``, 0x01 being the
signature type of Ed25519. Keys travel in the text encodings of ``golang.org/x/mod/
sumdb/note``, so standard tools read them:

- verifier key: ``<name>+<hex key id>+<base64(0x01 || 32-byte public key)>``
- signer key:   ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>``

Opening a note follows the specification: signatures from unknown keys (another name,
or the same name with another key id) are ignored; a signature from the known key that
does not verify rejects the note; a note without a verified signature is rejected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from vigile.ledger.encoding import decode_b64, encode_b64
from vigile.ledger.errors import CheckpointError, SigningKeyError

__all__ = ["MAX_SIGNATURES", "Signer", "Verifier", "key_id", "open_note", "sign_note"]

ED25519 = 0x01
"""Signature type identifier of Ed25519 in signed notes."""

MAX_SIGNATURES = 100
"""Signature lines read before giving up (the spec asks to accept at least 16)."""

_SIGNATURE_PREFIX = "\N{EM DASH} "
_PRIVATE_PREFIX = "PRIVATE+KEY+"


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key id of an Ed25519 ``public_key`` under ``name``."""
    material = name.encode() + b"\n" + bytes([ED25519]) + public_key
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True, kw_only=True)
class Verifier:
    """An Ed25519 public key with its note key name; checks signatures of notes."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise SigningKeyError(f"an Ed25519 public key has 32 bytes, not {len(self.public_key)}")
        try:
            public = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise SigningKeyError(f"not an Ed25519 public key: {exc}") from exc
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))
        object.__setattr__(self, "_key", public)

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        """Parse a verifier key ``<name>+<hex key id>+<base64 key>``."""
        name, hex_id, key = _split_key(text.strip(), "verifier key")
        verifier = cls(name=name, public_key=key)
        if verifier.key_id.hex() != hex_id:
            raise SigningKeyError(f"verifier key {name}: key id {hex_id} does not match its key")
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key text, as ``note.NewVerifier`` reads it."""
        encoded = encode_b64(bytes([ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` (64 bytes, no key id) signs ``message``."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """An Ed25519 private key with its note key name. Keep it secret; it signs checkpoints."""

    __slots__ = ("_key", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key = private_key
        self._verifier = Verifier(name=name, public_key=public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Return a signer with a fresh random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, text: str) -> Signer:
        """Parse a signer key ``PRIVATE+KEY+<name>+<hex key id>+<base64 seed>``."""
        text = text.strip()
        if not text.startswith(_PRIVATE_PREFIX):
            raise SigningKeyError(f"a signer key starts with {_PRIVATE_PREFIX!r}")
        name, hex_id, seed = _split_key(text.removeprefix(_PRIVATE_PREFIX), "signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        # The id names the public key, so it can only be checked once the key is derived.
        if signer.key_id.hex() != hex_id:
            raise SigningKeyError(f"signer key {name}: key id {hex_id} does not match its key")
        return signer

    @property
    def name(self) -> str:
        """The key name written in signature lines."""
        return self._verifier.name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id written before each signature."""
        return self._verifier.key_id

    @property
    def verifier(self) -> Verifier:
        """The public half, to hand to whoever checks this signer's notes."""
        return self._verifier

    def skey(self) -> str:
        """Return the secret signer key text, as ``note.NewSigner`` reads it."""
        seed = self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        encoded = encode_b64(bytes([ED25519]) + seed)
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        """Return the Ed25519 signature of ``message`` (deterministic, RFC 8032)."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Return the signed note of ``text`` (which must end in a newline) by ``signers``."""
    if not text.endswith("\n"):
        raise CheckpointError("a note text must end with a newline")
    _check_characters(text)
    message = text.encode()
    lines = []
    for signer in signers:
        signature = encode_b64(signer.key_id + signer.sign(message))
        lines.append(f"{_SIGNATURE_PREFIX}{signer.name} {signature}\n")
    if not lines:
        raise CheckpointError("a note needs at least one signature")
    return text + "\n" + "".join(lines)


def open_note(note: str | bytes, verifier: Verifier) -> str:
    """Return the text of ``note`` once a signature by ``verifier`` checks out.

    Raises :class:`CheckpointError`, with the line number, if the note is malformed,
    a signature by this key is bad, or no signature by this key is present.
    """
    text, lines, first_line = _split_note(note)
    others = []
    for number, line in enumerate(lines, start=first_line):
        name, signer_id, signature = _parse_signature_line(line, number)
        if name != verifier.name or signer_id != verifier.key_id:
            others.append(f"{name}+{signer_id.hex()}")
        elif not verifier.verify(text.encode(), signature):
            raise CheckpointError(f"bad signature by key {_key_label(verifier)}", line=number)
    if len(others) == len(lines):
        found = ", ".join(others)
        raise CheckpointError(
            f"no signature by key {_key_label(verifier)}; signed by unknown key {found}"
        )
    return text


def _split_note(note: str | bytes) -> tuple[str, list[str], int]:
    """Return the text, the signature lines, and the line number of the first of them."""
    if isinstance(note, bytes):
        note = _decode(note)
    _check_characters(note)
    # The text may hold blank lines; the last one separates it from the signatures.
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("no blank line separates the text from the signatures")
    text, signatures = note[: split + 1], note[split + 2 :]
    first_line = text.count("\n") + 2  # the text's lines, then the blank line
    if not signatures.endswith("\n"):
        raise CheckpointError("a note must end with a newline", line=first_line)
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"more than {MAX_SIGNATURES} signatures", line=first_line)
    return text, lines, first_line


def _parse_signature_line(line: str, number: int) -> tuple[str, bytes, bytes]:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise CheckpointError("a signature line starts with an em dash and a space", line=number)
    name, _, encoded = line.removeprefix(_SIGNATURE_PREFIX).partition(" ")
    if not _is_valid_name(name):
        raise CheckpointError(f"malformed key name {name!r}", line=number)
    raw = decode_b64(encoded)
    if raw is None or len(raw) < 5:
        raise CheckpointError("malformed signature (base64 of key id and signature)", line=number)
    return name, raw[:4], raw[4:]


def _decode(note: bytes) -> str:
    try:
        return note.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = note[: exc.start].count(b"\n") + 1
        raise CheckpointError("a note must be valid UTF-8", line=line) from exc


def _check_characters(text: str) -> None:
    # The spec forbids control characters but newline; a CRLF note fails here, clearly.
    for position, char in enumerate(text):
        if char < " " and char != "\n":
            line = text.count("\n", 0, position) + 1
            raise CheckpointError(f"control character U+{ord(char):04X} in a note", line=line)


def _split_key(text: str, what: str) -> tuple[str, str, bytes]:
    """Split ``<name>+<hex id>+<base64(0x01 || 32 bytes)>`` into its three parts."""
    name, _, rest = text.partition("+")
    hex_id, _, encoded = rest.partition("+")
    hex_id = hex_id.lower()  # Go parses the id as a number, so either case is accepted
    raw = decode_b64(encoded)
    if not _is_valid_name(name) or len(hex_id) != 8 or not _is_hex(hex_id) or raw is None:
        raise SigningKeyError(f"malformed {what}: want <name>+<8 hex digits>+<base64>")
    if len(raw) != 33 or raw[0] != ED25519:
        raise SigningKeyError(f"{what} {name}: not a 32-byte Ed25519 key (type 0x01)")
    return name, hex_id, raw[1:]


def _check_name(name: str) -> None:
    if not _is_valid_name(name):
        raise SigningKeyError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _is_valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() or c < " " for c in name)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _key_label(verifier: Verifier) -> str:
    return f"{verifier.name}+{verifier.key_id.hex()}"
