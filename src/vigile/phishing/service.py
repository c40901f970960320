"""The guard a long-running server uses: rebuilt from the incidents now and then.

The watch list changes when an incident is opened or remediated; building it costs a
few queries (well under a second for 10,000 addresses), far too much per message and
cheap once a minute (``VIGILE_PHISH_WATCHLIST_SECONDS``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from vigile.phishing.check import Guard
from vigile.phishing.watchlist import build_watchlist
from vigile.respond import Incidents
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["GuardService"]


class GuardService:
    """Hands out the current guard, rebuilding it when it is older than the setting."""

    def __init__(
        self, store: Store, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._guard: Guard | None = None
        self._built = 0.0

    def guard(self) -> Guard:
        """The guard, with a watch list at most ``phish_watchlist_seconds`` old."""
        with self._lock:
            now = self.clock()
            stale = now - self._built >= self.settings.phish_watchlist_seconds
            if self._guard is None or stale:
                incidents = Incidents(self.store)
                ids = [i.id for i in incidents.find()]
                watchlist = build_watchlist(incidents, ids) if ids else None
                self._guard = Guard.from_settings(self.settings, watchlist)
                self._built = now
            return self._guard
