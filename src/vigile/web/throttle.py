"""Failed sign-ins per username: after too many in a period, that username waits."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

__all__ = ["Throttle"]


class Throttle:
    def __init__(self, *, failures: int, period: timedelta) -> None:
        self.failures = failures
        self.period = period
        self._seen: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str, now: datetime) -> bool:
        with self._lock:
            recent = self._recent(key, now)
            return len(recent) >= self.failures

    def failed(self, key: str, now: datetime) -> None:
        with self._lock:
            self._recent(key, now).append(now)

    def cleared(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] > self.period:
            times.popleft()
        return times
