"""Where the shared public test vectors live, resolved from this file (not hard-coded)."""

from __future__ import annotations

from pathlib import Path

# tests/ledger/testdata.py -> the repository root is two folders up; shared/ sits beside it.
REPO_ROOT = Path(__file__).resolve().parents[2]
MERKLE_VECTORS = REPO_ROOT.parent / "shared" / "testdata" / "merkle"
