"""Where the public test vectors live: in this repository, resolved from this file."""

from __future__ import annotations

from pathlib import Path

# transparency-dev/merkle's testdata/ and testonly/constants.go, copied unchanged with their
# licence; vectors/merkle/SOURCE.md says from which commit.
MERKLE_VECTORS = Path(__file__).resolve().parent / "vectors" / "merkle"
