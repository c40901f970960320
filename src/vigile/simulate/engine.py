"""Running a simulation: days made in parallel, merged in time order, written atomically.

Worker processes make days (:mod:`vigile.simulate.days`) in any order; the parent writes
them in day order, so the output is byte-identical whatever the number of workers. A day's
records reach back at most one day before its date (shifts in timezones ahead of UTC,
tickets waiting in the queue), so the parent holds back only the records a later day could
still precede, and the file comes out sorted by time with bounded memory.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigile.activitylog.writer import ActivityLogWriter
from vigile.errors import OutputError
from vigile.simulate.config import SimulationConfig, SimulationResult
from vigile.simulate.days import Job
from vigile.simulate.keys import IdMint
from vigile.simulate.ordering import TimeOrder
from vigile.simulate.organisation import Directory, build_organisation
from vigile.simulate.scenarios import SCENARIOS
from vigile.simulate.truth import TruthBook, publish
from vigile.simulate.workers import produce_days
from vigile.simulate.world import World

__all__ = ["simulate"]

Progress = Callable[[int, int], None]
_SMALL = 2_000  # agent-days below which worker processes cost more than they save


def _write_days(
    job: Job, writer: ActivityLogWriter, book: TruthBook, workers: int, progress: Progress | None
) -> Counter[str]:
    counts: Counter[str] = Counter()
    order = TimeOrder()
    calendar = job.world.calendar
    for output in produce_days(job, workers, writer.path.parent):
        order.add(output.block)
        # A later day's records start no earlier than this day's midnight.
        writer.write_raw_lines(order.release(before=calendar.midnight(output.day)))
        counts.update(output.counts)
        for number, evidence in output.evidence.items():
            book.add(number, evidence)
        if progress is not None:
            progress(output.day + 1, calendar.days)
    writer.write_raw_lines(order.release())
    return counts


@contextmanager
def _paused_gc() -> Iterator[None]:
    # Millions of short-lived tuples would trigger full collections over the organisation.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _folder(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the output folder: {exc.strerror}") from exc
    if not os.access(out_dir, os.W_OK):
        raise OutputError(f"{out_dir}: the output folder is not writable")
    return out_dir


def _plan(config: SimulationConfig) -> tuple[Job, Directory]:
    calendar = config.calendar
    mint = IdMint.for_seed(config.seed)
    org, directory = build_organisation(seed=config.seed, calendar=calendar, agents=config.agents,
                                        customers=config.customer_count, mint=mint,
                                        ai_agents=config.ai_agent_count)  # fmt: skip
    world = World(seed=config.seed, calendar=calendar, org=org, mint=mint)
    attacks = SCENARIOS[config.scenario].plan(world, config.attack_window())
    return Job(world=world, attacks=attacks), directory


def _auto_workers(config: SimulationConfig) -> int:
    if config.agents * config.days < _SMALL:
        return 1
    return max(1, min(os.cpu_count() or 1, config.days))


def _write_both(
    job: Job, config: SimulationConfig, folder: Path, directory: Directory, run: _Run
) -> tuple[int, dict[str, Any]]:
    """Write the log then truth.json, both or neither; the log's record count and the truth."""
    book = TruthBook(scenario=config.scenario, seed=config.seed, attacks=job.attacks)
    staged: Path | None = None
    try:
        with ActivityLogWriter(folder / "activity.jsonl") as writer:
            writer.write_raw_lines(directory.data)
            counts = _write_days(job, writer, book, run.workers, run.progress)
            summary = {"events": writer.count - directory.count,
                       "directory_records": directory.count, **counts}  # fmt: skip
            document = book.document(summary)
            staged = publish(document, folder)
        os.replace(staged, folder / "truth.json")
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write the simulation: {exc}") from exc
    finally:
        if staged is not None and staged.exists():
            staged.unlink()
    return writer.count, document


@dataclass(frozen=True, kw_only=True, slots=True)
class _Run:
    workers: int
    progress: Progress | None


def simulate(
    config: SimulationConfig,
    out_dir: Path | str,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
) -> SimulationResult:
    """Simulate ``config`` into ``out_dir``/activity.jsonl and ``out_dir``/truth.json.

    ``progress(done, total)`` is called after each simulated day. ``workers`` processes
    make the days (by default one per core for large runs); the output does not depend on
    it. Both files appear together, or neither: an unwritable folder raises
    :class:`~vigile.errors.OutputError`.
    """
    started = time.perf_counter()
    folder = _folder(Path(out_dir))
    run = _Run(workers=workers or _auto_workers(config), progress=progress)
    with _paused_gc():
        job, directory = _plan(config)
        records, truth = _write_both(job, config, folder, directory, run)
    summary = truth["summary"]
    return SimulationResult(
        events=summary["events"],
        records=records,
        path=folder / "activity.jsonl",
        truth_path=folder / "truth.json",
        attacker_events=summary["attacker_events"],
        seconds=round(time.perf_counter() - started, 3),
    )
