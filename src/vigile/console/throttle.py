"""Failed sign-ins per username: after too many in a period, that username waits.

Only names with failures in the period are kept, and at most ``keep`` of them (the
oldest failures are forgotten first), so random names cannot grow the server's memory."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

__all__ = ["Throttle"]


class Throttle:
    def __init__(self, *, failures: int, period: timedelta, keep: int = 10_000) -> None:
        self.failures = failures
        self.period = period
        self.keep = keep
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str, now: datetime) -> bool:
        with self._lock:
            return len(self._recent(key, now)) >= self.failures

    def failed(self, key: str, now: datetime) -> None:
        with self._lock:
            recent = self._recent(key, now)
            recent.append(now)
            self._seen[key] = recent
            if len(self._seen) > self.keep:  # the least recently touched name goes
                del self._seen[next(iter(self._seen))]

    def cleared(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._seen.pop(key, deque())
        while times and now - times[0] > self.period:
            times.popleft()
        if times:
            self._seen[key] = times
        return times
