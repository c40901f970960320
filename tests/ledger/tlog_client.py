"""A small tlog-tiles client written for the tests from the C2SP specifications alone
(c2sp.org/tlog-tiles, c2sp.org/tlog-checkpoint, c2sp.org/signed-note, RFC 6962 section
2.1), not from Vigile's proof code: it reads a checkpoint, tiles and entry bundles
through ``fetch(path) -> bytes`` and computes roots and proofs from them.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Fetch = Callable[[str], bytes]


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def open_checkpoint(note: str, vkey: str) -> Checkpoint:
    """Verify the note's Ed25519 signature by ``vkey`` (``name+hexid+base64(0x01||key)``)
    and parse the checkpoint body (origin, size, base64 root)."""
    name, key_hex, key_b64 = vkey.split("+", 2)
    raw_key = base64.b64decode(key_b64)
    assert raw_key[0] == 0x01
    public = Ed25519PublicKey.from_public_bytes(raw_key[1:])
    body, _, signatures = note.partition("\n\n")
    text = body + "\n"
    for line in signatures.splitlines():
        signer, blob = line.removeprefix("\N{EM DASH} ").split(" ")
        signature = base64.b64decode(blob)
        if signer == name and signature[:4].hex() == key_hex:
            public.verify(signature[4:], text.encode())  # raises when it does not check
            lines = body.split("\n")
            return Checkpoint(lines[0], int(lines[1]), base64.b64decode(lines[2]))
    raise AssertionError("no signature by the log's key")


def tile_path(level: str, index: int, width: int) -> str:
    digits = str(index).rjust((len(str(index)) + 2) // 3 * 3, "0")
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    path = "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])
    return f"tile/{level}/{path}" + ("" if width == 256 else f".p/{width}")


class TiledLog:
    """The tree of ``checkpoint.size`` leaves, read from its tiles."""

    def __init__(self, fetch: Fetch, size: int) -> None:
        self.fetch = fetch
        self.size = size
        self._tiles: dict[str, bytes] = {}

    def _tile(self, level: int, index: int) -> bytes:
        full_end = (index + 1) * 256 * 256**level
        width = 256 if full_end <= self.size else (self.size // 256**level) % 256
        path = tile_path(str(level), index, width)
        if path not in self._tiles:
            data = self.fetch(path)
            assert len(data) == 32 * width, (path, len(data))
            self._tiles[path] = data
        return self._tiles[path]

    def perfect(self, height: int, index: int) -> bytes:
        """MTH(D[index * 2^height : (index + 1) * 2^height])."""
        if height % 8 == 0:
            level, position = height // 8, index
            tile = self._tile(level, position // 256)
            offset = (position % 256) * 32
            return tile[offset : offset + 32]
        return node_hash(
            self.perfect(height - 1, 2 * index), self.perfect(height - 1, 2 * index + 1)
        )

    def mth(self, lo: int, hi: int) -> bytes:
        """RFC 6962 Merkle Tree Hash of D[lo:hi] (lo aligned as the recursion makes it)."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            return self.perfect(n.bit_length() - 1, lo // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def audit_path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """RFC 6962 PATH(m, D[lo:hi])."""
        n = hi - lo
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return [*self.audit_path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.audit_path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def entries(self, index: int) -> list[bytes]:
        """The entry bundle holding leaf ``index``, split into its entries."""
        bundle = index // 256
        width = 256 if (bundle + 1) * 256 <= self.size else self.size % 256
        data = self.fetch(tile_path("entries", bundle, width))
        out, at = [], 0
        while at < len(data):
            (length,) = struct.unpack(">H", data[at : at + 2])
            out.append(data[at + 2 : at + 2 + length])
            at += 2 + length
        assert len(out) == width
        return out


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root an inclusion proof leads to."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise AssertionError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0, "proof too short"
    return r
