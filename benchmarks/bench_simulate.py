"""Benchmark of ``vigile simulate``: 2,000 agents x 90 days, at least 10M events in 2 minutes.

Run with ``make bench`` or ``pytest -m bench benchmarks/bench_simulate.py -s``. Measured:
wall time, events per second, CPU seconds (this process and its worker processes), and
memory: the peak RSS of the parent and of the workers, plus the RSS of all of them sampled
after every simulated day, to show it does not grow with the number of days.

The baseline, measured in the same run because the machine is shared and noisy, is the
floor of any Python writer of the same log: ``orjson.dumps`` of as many already-built
records (a sample of the simulated ones) and writing them to a file the same way.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from vigile.simulate import SimulationConfig, simulate

pytestmark = pytest.mark.bench

AGENTS = int(os.environ.get("VIGILE_BENCH_AGENTS", "2000"))
DAYS = int(os.environ.get("VIGILE_BENCH_DAYS", "90"))
TARGET_EVENTS = 10_000_000
TARGET_SECONDS = 120.0
_PAGE = os.sysconf("SC_PAGE_SIZE")
_BLOCK = 10_000  # records per write in the baseline


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


class _Memory:
    """RSS of this process and its live workers, after each day."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def __call__(self, done: int, total: int) -> None:
        pids = [os.getpid(), *(p.pid for p in multiprocessing.active_children() if p.pid)]
        self.samples.append(sum(_rss_mb(pid) for pid in pids if Path(f"/proc/{pid}").exists()))


def _sample(path: Path, count: int) -> list[dict[str, Any]]:
    """The first ``count`` events of the log, decoded: the baseline's pre-built records."""
    records: list[dict[str, Any]] = []
    with path.open("rb") as lines:
        for line in lines:
            if b'"time"' in line:
                records.append(orjson.loads(line))
                if len(records) == count:
                    break
    return records


def _orjson_floor(records: list[dict[str, Any]], total: int, out: Path) -> float:
    """Seconds to encode ``total`` pre-built records with orjson and write them in blocks."""
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    start = time.perf_counter()
    with out.open("wb") as file:
        remaining = total
        while remaining:
            for i in range(0, len(records), _BLOCK):
                batch = records[i : i + min(_BLOCK, remaining)]
                file.write(b"".join([dumps(r, option=option) for r in batch]))
                remaining -= len(batch)
                if not remaining:
                    break
        file.flush()
        os.fsync(file.fileno())
    return time.perf_counter() - start


def test_simulate_rate(tmp_path: Path) -> None:
    scenario = "nobelium" if DAYS >= 29 else "baseline"  # nobelium needs late May
    config = SimulationConfig(scenario=scenario, seed=7, days=DAYS, agents=AGENTS)
    memory = _Memory()
    load_before = os.getloadavg()[0]
    cpu = os.times()
    result = simulate(config, tmp_path / "sim", progress=memory)
    after = os.times()
    wall = result.seconds
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    cpu_self = (after.user - cpu.user) + (after.system - cpu.system)
    cpu_workers = (after.children_user - cpu.children_user) + (
        after.children_system - cpu.children_system
    )
    size = result.path.stat().st_size

    floor = _orjson_floor(_sample(result.path, 200_000), result.events, tmp_path / "floor.jsonl")
    third = max(1, len(memory.samples) // 3)
    early, late = max(memory.samples[:third]), max(memory.samples[-third:])
    print(
        f"\nsimulate {AGENTS} agents x {DAYS} days ({config.customer_count} customers): "
        f"{result.events:,} events ({result.records:,} records, {size / 2**30:.2f} GiB) "
        f"in {wall:.1f} s = {result.events / wall:,.0f} events/s\n"
        f"  CPU: parent {cpu_self:.1f} s, workers {cpu_workers:.1f} s; "
        f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after\n"
        f"  peak RSS: parent {own:.0f} MiB, largest worker {workers:.0f} MiB; all processes "
        f"{early:.0f} MiB (first third of days) vs {late:.0f} MiB (last third)\n"
        f"  baseline, orjson.dumps + write of as many pre-built records: {floor:.1f} s "
        f"({result.events / floor:,.0f} records/s); simulate / baseline = {wall / floor:.2f}"
    )
    for leftover in (result.path, tmp_path / "floor.jsonl"):
        leftover.unlink()
    if AGENTS * DAYS >= 2000 * 90:
        assert result.events >= TARGET_EVENTS
        assert wall <= TARGET_SECONDS
    assert late <= early * 1.25 + 100, "memory grows with the number of days"
