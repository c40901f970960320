"""A deliberately naive Merkle tree written from the definitions of RFC 9162 §2.1.

Nothing here shares code with ``vigile.ledger`` except the two hash functions, whose
prefixes are checked against known answers in ``test_hashing.py``. Slow on purpose:
every function recurses over the leaves exactly as the RFC's text does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (RFC 9162 §2.1.1), for n > 1."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the Merkle Tree Hash of a list of leaf *inputs* (§2.1.1)."""
    n = len(leaves)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + leaves[0])
    k = _k(n)
    return _sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the inclusion proof of leaf m (§2.1.3.1)."""
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): the consistency proof from size m to n (§2.1.4.1)."""
    return subproof(m, leaves, start=True)


def subproof(m: int, leaves: Sequence[bytes], *, start: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if start else [mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, leaves[:k], start=start), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], start=False), mth(leaves[:k])]
