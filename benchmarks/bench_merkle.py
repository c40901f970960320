"""Benchmarks of the ledger's Merkle tree: appends per second and proof latency.

Run with ``pytest -m bench benchmarks/bench_merkle.py`` (figures are printed). Appends
are compared with a baseline measured in the same run, bare ``hashlib.sha256`` over the
same leaves, so the ratio says what the tree costs beyond hashing and stays comparable
across machines.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from collections.abc import Callable

import pytest

from vigile.ledger.compact import CompactRange, MemoryTree
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.proof import verify_consistency, verify_inclusion

pytestmark = pytest.mark.bench

APPENDS = 200_000
MILLION = 1_000_000
PROOFS = 2_000
LEAF_SIZE = 120  # about one JSON-encoded access decision


def _leaves(count: int, seed: int = 9162) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(LEAF_SIZE) for _ in range(count)]


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings, in seconds: the least disturbed by the machine."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print a figure past pytest's capture, so ``pytest -m bench`` shows it."""

    def show(line: str) -> None:
        with capsys.disabled():
            print(f"\n  {line}", end="")

    return show


def test_appends_per_second_against_bare_sha256(report: Callable[[str], None]) -> None:
    leaves = _leaves(APPENDS)

    def baseline() -> None:
        for leaf in leaves:
            hashlib.sha256(leaf).digest()

    def compact_range() -> None:
        frontier = CompactRange()
        for leaf in leaves:
            frontier.append(leaf_hash(leaf))

    def memory_tree() -> None:
        MemoryTree().extend(leaves)

    base = _best_of(5, baseline)
    frontier = _best_of(5, compact_range)
    tree = _best_of(5, memory_tree)
    report(f"{APPENDS:,} leaves of {LEAF_SIZE} bytes, best of 5")
    report(f"bare hashlib.sha256 : {APPENDS / base:12,.0f} leaves/s")
    report(f"CompactRange.append : {APPENDS / frontier:12,.0f} appends/s  ({frontier / base:.1f}x)")
    report(f"MemoryTree.append   : {APPENDS / tree:12,.0f} appends/s  ({tree / base:.1f}x)")
    # Two hashes per leaf are the floor; the rest is bookkeeping. Loose bound, not a target.
    assert tree / base < 25


def test_proofs_at_a_million_entries(report: Callable[[str], None]) -> None:
    build_start = time.perf_counter()
    tree = MemoryTree()
    tree.extend(i.to_bytes(8, "big") for i in range(MILLION))
    build = time.perf_counter() - build_start
    rng = random.Random(6962)
    indices = [rng.randrange(MILLION) for _ in range(PROOFS)]
    older = [rng.randrange(1, MILLION) for _ in range(PROOFS)]

    inclusion = _per_call(lambda: [tree.inclusion_proof(i) for i in indices])
    consistency = _per_call(lambda: [tree.consistency_proof(s) for s in older])
    old_root = _per_call(lambda: [tree.root(s) for s in older])
    root = tree.root()
    verify = _per_call(
        lambda: [
            verify_inclusion(
                leaf_hash(i.to_bytes(8, "big")), i, MILLION, tree.inclusion_proof(i), root
            )
            for i in indices
        ]
    )
    report(f"MemoryTree of {MILLION:,} entries built in {build:.2f} s; median of 5 runs below")
    report(
        f"inclusion proof       : {inclusion * 1e6:7.1f} µs per proof ({PROOFS:,} random leaves)"
    )
    report(f"consistency proof     : {consistency * 1e6:7.1f} µs")
    report(f"root at an older size : {old_root * 1e6:7.1f} µs")
    report(f"prove + verify        : {verify * 1e6:7.1f} µs")
    for s in older[:20]:
        verify_consistency(s, MILLION, tree.consistency_proof(s), tree.root(s), root)
    assert inclusion < 1e-3  # O(log n): about 20 node reads, never a scan


def _per_call(batch: Callable[[], list[object]]) -> float:
    """Median seconds per call over 5 runs of a batch of PROOFS calls."""
    return statistics.median(_best_of(1, batch) for _ in range(5)) / PROOFS
