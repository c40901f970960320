"""Merging days of encoded records into one time-ordered stream, without decoding them.

A day travels from a worker as one :class:`Block`: its records' bytes back to back, their
times and where each ends. Consecutive days overlap in time (a shift in Sydney starts the
previous UTC day), so :class:`TimeOrder` holds the blocks back and releases, in order, the
records no later day can precede. Merging works on runs: where one block's records follow
each other in the merged order their bytes are copied in one slice, so the Python work is
per run, not per record.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vigile.simulate.emit import DayLog

__all__ = ["Block", "TimeOrder"]

_Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True, slots=True)
class Block:
    """Records sorted by time: ``data`` holds them back to back; record i ends at ``ends[i]``."""

    times: _Ints
    ends: _Ints
    data: bytes | mmap.mmap  # a mapped spool file when a worker made the day

    @classmethod
    def of(cls, log: DayLog) -> Block:
        """The records of ``log``, sorted by time (ties keep their order in ``log``)."""
        times = np.array(log.times, dtype=np.int64)
        order = np.argsort(times, kind="stable")
        lines = [log.lines[i] for i in order.tolist()]
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        return cls(times=times[order], ends=np.cumsum(lengths), data=b"".join(lines))

    def __len__(self) -> int:
        return len(self.times)


@dataclass(kw_only=True, slots=True)
class _Held:
    block: Block
    next: int = 0  # index of the first record not yet released


class TimeOrder:
    """Releases the records of overlapping, individually sorted blocks in time order.

    Ties keep the order the blocks were added in, then their own order: the output is
    deterministic.
    """

    def __init__(self) -> None:
        self._held: list[_Held] = []

    def add(self, block: Block) -> None:
        """Hold ``block`` until its records can be released."""
        if len(block):
            self._held.append(_Held(block=block))

    def release(self, before: int | None = None) -> bytes:
        """Every held record with a time before ``before`` (all when None), in order."""
        counts = []
        for held in self._held:
            times = held.block.times
            stop = len(times) if before is None else int(np.searchsorted(times, before))
            counts.append(stop - held.next)
        data = _merge(self._held, counts)
        for held, count in zip(self._held, counts, strict=True):
            held.next += count
        self._held = [h for h in self._held if h.next < len(h.block)]
        return data


def _merge(held: list[_Held], counts: list[int]) -> bytes:
    """The next ``counts[i]`` records of each ``held[i]``, merged by time."""
    if sum(counts) == 0:
        return b""
    times = np.concatenate(
        [h.block.times[h.next : h.next + n] for h, n in zip(held, counts, strict=True)]
    )
    source = np.repeat(np.arange(len(held)), counts)
    local = np.concatenate(
        [np.arange(h.next, h.next + n) for h, n in zip(held, counts, strict=True)]
    )
    order = np.argsort(times, kind="stable")
    source, local = source[order], local[order]
    # A run is a stretch of the merged order taken from one block: contiguous bytes there.
    starts = np.flatnonzero(np.diff(source)) + 1
    firsts = np.concatenate(([0], starts)).tolist()
    lasts = np.concatenate((starts - 1, [len(source) - 1])).tolist()
    source_list, local_list = source.tolist(), local.tolist()
    parts = []
    for first, last in zip(firsts, lasts, strict=True):
        block = held[source_list[first]].block
        i, j = local_list[first], local_list[last]
        begin = int(block.ends[i - 1]) if i else 0
        parts.append(memoryview(block.data)[begin : int(block.ends[j])])
    return b"".join(parts)
