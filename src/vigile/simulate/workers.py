"""Days made by worker processes, handed back in day order.

Workers are forked, so they share the organisation without pickling it. A day's block of
encoded records (tens of megabytes) does not travel back through the pool's pipe, whose
small buffer makes the parent spend more time receiving than writing: the worker leaves it
in a spool file (in memory-backed ``/dev/shm`` when there is room) and the parent maps it.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from vigile.simulate.days import DayOutput, Job, generate_day
from vigile.simulate.ordering import Block

__all__ = ["produce_days"]

_SHM = Path("/dev/shm")  # noqa: S108  (only ever holds a private mkdtemp folder)
_SHM_ROOM = 2**30  # bytes /dev/shm must have free for the spool to go there


@dataclass(frozen=True, kw_only=True, slots=True)
class _Worker:
    job: Job
    spool: Path


_worker: _Worker | None = None


def _start_worker(job: Job, spool: Path) -> None:
    global _worker  # noqa: PLW0603  (one job per worker process, set once)
    _worker = _Worker(job=job, spool=spool)
    gc.disable()  # nothing a day makes is cyclic: reference counting frees it all


def _worker_day(day: int) -> tuple[DayOutput, str]:
    """Make ``day``; its records go to a spool file, the rest back through the pipe."""
    assert _worker is not None
    output = generate_day(_worker.job, day)
    path = _worker.spool / f"day-{day:05d}"
    path.write_bytes(output.block.data)
    empty = Block(times=output.block.times, ends=output.block.ends, data=b"")
    return replace(output, block=empty), str(path)


def _landed(output: DayOutput, path: str) -> DayOutput:
    """``output`` with its records mapped from the spool file, which is then removed."""
    with open(path, "rb") as spooled:
        size = os.fstat(spooled.fileno()).st_size
        data = mmap.mmap(spooled.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    os.unlink(path)  # the mapping outlives the name
    return replace(output, block=replace(output.block, data=data))


@contextmanager
def _spool(near: Path) -> Iterator[Path]:
    roomy = _SHM.is_dir() and os.access(_SHM, os.W_OK) and shutil.disk_usage(_SHM).free > _SHM_ROOM
    folder = Path(tempfile.mkdtemp(prefix=".vigile-days-", dir=_SHM if roomy else near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def produce_days(job: Job, workers: int, spool_near: Path) -> Iterator[DayOutput]:
    """Every day's output, in day order, made by ``workers`` processes."""
    days = job.world.calendar.days
    if workers <= 1:
        yield from (generate_day(job, day) for day in range(days))
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with (
        _spool(spool_near) as spool,
        context.Pool(workers, initializer=_start_worker, initargs=(job, spool)) as pool,
    ):
        upcoming = iter(range(days))
        # A bounded number of days in flight: memory stays bounded if writing lags.
        pending = deque(pool.apply_async(_worker_day, (d,)) for d in islice(upcoming, 2 * workers))
        while pending:
            output, path = pending.popleft().get()
            pending.extend(pool.apply_async(_worker_day, (d,)) for d in islice(upcoming, 1))
            yield _landed(output, path)
