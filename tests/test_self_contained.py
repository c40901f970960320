"""The tests read only what the repository holds: a clone passes with nothing beside it.

The team keeps a shared folder beside the project in development; the test data it holds
(Merkle vectors, the spec's example) is copied into ``tests/`` with its licence and source,
and ``.ci/run`` runs the suite from a fresh clone in an empty folder to prove it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO, SPEC_EXAMPLE
from tests.ledger.testdata import MERKLE_VECTORS

# A path into the shared folder: "../shared", "/work/shared", a "shared" path component
# joined with pathlib, or one of its folders named as text.
OUTSIDE = re.compile(
    r"""\.\./shared\b|/work/shared\b|/\s*["']shared["']|\bshared/(?:spec|testdata|docs)\b"""
)
# What the test command runs and reads, besides the tests' own files.
SCANNED = ["tests", "benchmarks", "build_support", ".ci", "Makefile", "pyproject.toml"]


def _sources() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        root = REPO / name
        files.extend(sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root])
    return [
        p
        for p in files
        if "__pycache__" not in p.parts
        and p.resolve() != Path(__file__).resolve()
        and p.name != "SOURCE.md"  # provenance notes may say where a copy came from
    ]


def test_no_file_points_outside_the_repository() -> None:
    found = []
    for path in _sources():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == []


def test_the_pattern_catches_the_old_paths() -> None:
    for line in [
        'MERKLE_VECTORS = REPO_ROOT.parent / "shared" / "testdata" / "merkle"',
        "SHARED = REPO.parent / 'shared'",
        "see ../shared/spec/activity-log.md",
        "(``/work/shared/spec/activity-log.md``)",
        "kept as ``shared/testdata/merkle/constants.go.txt``",
    ]:
        assert OUTSIDE.search(line), line
    for line in ['"shared_session": ("desk-emea", shared_session)', "a shared transaction"]:
        assert not OUTSIDE.search(line), line


def test_test_data_lives_in_the_repository() -> None:
    for path in [MERKLE_VECTORS, SPEC_EXAMPLE]:
        assert path.resolve().is_relative_to(REPO)
        assert path.exists(), path
    # The vectors keep their licence and a note of their source.
    assert (MERKLE_VECTORS / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert "417fb0c314750d94e53942e9f92e79b6d35915db" in (MERKLE_VECTORS / "SOURCE.md").read_text()
