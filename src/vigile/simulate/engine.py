"""Running a simulation: days made in parallel, merged in time order, written atomically.

The unit of work is one day: every agent's shift that starts on that date (in the agent's
own timezone) plus every attack's activity of that date. A day depends only on the
configuration, so worker processes make days in any order and the parent writes them in
day order: the output is byte-identical whatever the number of workers. A day's records
reach back at most one day before its date (shifts in timezones ahead of UTC, tickets
waiting in the queue), so the parent holds back only the records that a later day could
still precede, and the file comes out sorted by time with bounded memory.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from vigile.activitylog.writer import ActivityLogWriter
from vigile.errors import OutputError
from vigile.simulate.clock import DAY
from vigile.simulate.config import SimulationConfig, SimulationResult
from vigile.simulate.emit import DayLog, Emitter
from vigile.simulate.keys import IdMint
from vigile.simulate.ordering import Block, TimeOrder
from vigile.simulate.organisation import Directory, build_organisation
from vigile.simulate.scenarios import SCENARIOS
from vigile.simulate.threat import Attack
from vigile.simulate.truth import Evidence, TruthBook, publish
from vigile.simulate.workday import DayTrace, day_plan, work_day
from vigile.simulate.world import World

__all__ = ["DayOutput", "Job", "generate_day", "simulate"]

Progress = Callable[[int, int], None]
_SMALL = 2_000  # agent-days below which worker processes cost more than they save


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    """What every worker needs: the world and the attacks to run in it."""

    world: World
    attacks: tuple[Attack, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DayOutput:
    """One day's records sorted by time, the attacks' evidence, and counts by kind."""

    day: int
    block: Block
    evidence: dict[int, Evidence]
    counts: dict[str, int]


def _tally(log: DayLog, emitters: list[Emitter]) -> dict[str, int]:
    ids = sum(e.ids for e in emitters)  # every sign-in and access has an id, tickets none
    signins = sum(e.signins for e in emitters)
    return {"accesses": ids - signins, "signins": signins, "ticket_steps": len(log) - ids}


def _attacks_of(
    job: Job, day: int, traces: dict[int, DayTrace], log: DayLog, emitters: list[Emitter]
) -> dict[int, Evidence]:
    world, found = job.world, {}
    first_slot = len(world.org.agents)
    for attack in job.attacks:
        if day not in attack.window:
            continue
        own = DayLog()
        emitter = Emitter(own, world.mint, day=day, slot=first_slot + attack.number,
                          agent=attack.agent.id)  # fmt: skip
        attack.act(world, day, traces.get(attack.agent.index), emitter)
        found[attack.number] = Evidence.of(own)
        log.extend(own)
        emitters.append(emitter)
    return found


def generate_day(job: Job, day: int) -> DayOutput:
    """Every record of day ``day``, sorted by time."""
    world = job.world
    victims = {attack.agent.index for attack in job.attacks}
    log = DayLog()
    emitters: list[Emitter] = []
    traces: dict[int, DayTrace] = {}
    for agent in world.org.agents:
        plan = day_plan(world, agent, day)
        if plan is not None:
            emitter = Emitter(log, world.mint, day=day, slot=agent.index, agent=agent.id)
            emitters.append(emitter)
            trace = work_day(world, plan, emitter)
            if agent.index in victims:
                traces[agent.index] = trace
    evidence = _attacks_of(job, day, traces, log, emitters)
    block = Block.of(log)
    if len(block) and block.times[0] < world.calendar.midnight(day) - DAY:
        raise RuntimeError(f"day {day} reaches back more than a day before its date")
    return DayOutput(day=day, block=block, evidence=evidence, counts=_tally(log, emitters))


_worker_job: Job | None = None


def _start_worker(job: Job) -> None:
    global _worker_job  # noqa: PLW0603  (one job per worker process, set once)
    _worker_job = job
    gc.disable()  # nothing a day makes is cyclic: reference counting frees it all


def _worker_day(day: int) -> DayOutput:
    assert _worker_job is not None
    return generate_day(_worker_job, day)


def _days(job: Job, workers: int) -> Iterator[DayOutput]:
    """Every day's output, in day order, made by ``workers`` processes."""
    days = job.world.calendar.days
    if workers <= 1:
        yield from (generate_day(job, day) for day in range(days))
        return
    # fork shares the organisation with the workers without pickling it.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(job,)) as pool:
        upcoming = iter(range(days))
        # A bounded number of days in flight: memory stays bounded if writing lags.
        pending = deque(pool.apply_async(_worker_day, (d,)) for d in islice(upcoming, workers + 1))
        while pending:
            output: DayOutput = pending.popleft().get()
            pending.extend(pool.apply_async(_worker_day, (d,)) for d in islice(upcoming, 1))
            yield output


def _write_days(
    job: Job, writer: ActivityLogWriter, book: TruthBook, workers: int, progress: Progress | None
) -> Counter[str]:
    counts: Counter[str] = Counter()
    order = TimeOrder()
    calendar = job.world.calendar
    for output in _days(job, workers):
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
                                        customers=config.customer_count, mint=mint)  # fmt: skip
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
