"""The RFC 6962 / RFC 9162 proof vectors of transparency-dev/merkle, every one of them.

Source: github.com/transparency-dev/merkle ``testdata/`` at commit
417fb0c314750d94e53942e9f92e79b6d35915db (Apache-2.0), copied unchanged into
``tests/ledger/vectors/merkle`` (see its SOURCE.md). Cases with ``wantErr`` must fail.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.ledger.testdata import MERKLE_VECTORS
from vigile.ledger.errors import ProofError
from vigile.ledger.proof import (
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

INCLUSION = sorted((MERKLE_VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((MERKLE_VECTORS / "consistency").rglob("*.json"))


def _id(path: Path) -> str:
    return str(path.relative_to(MERKLE_VECTORS))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in case["proof"] or []]


def test_all_196_vectors_are_present() -> None:
    assert len(INCLUSION) + len(CONSISTENCY) == 196


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case))
    root = _b64(case["root"])
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args, root)
    else:
        verify_inclusion(*args, root)
        assert root_from_inclusion_proof(*args) == root


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    sizes = (case["size1"], case["size2"])
    root1, root2 = _b64(case["root1"]), _b64(case["root2"])
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*sizes, _proof(case), root1, root2)
    else:
        verify_consistency(*sizes, _proof(case), root1, root2)
        assert root_from_consistency_proof(*sizes, _proof(case), root1) == root2
