"""Standard base64 (RFC 4648 §4) as the ledger's formats spell it: canonical only.

Decoding is strict (no whitespace, padding required) and refuses non-canonical spellings
(stray low bits in the last character), so every hash, key and signature has exactly one
textual form and a tampered spelling cannot pass for the original.
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["decode_b64", "encode_b64"]


def encode_b64(raw: bytes) -> str:
    """Return the standard base64 spelling of ``raw``."""
    return base64.b64encode(raw).decode("ascii")


def decode_b64(text: str) -> bytes | None:
    """Return the bytes ``text`` spells in canonical standard base64, or None if it does not."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if text and encode_b64(raw) == text else None
