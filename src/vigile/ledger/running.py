"""Running the integrator: ``vigile ledger integrate``, or a thread of ``vigile serve``.

Either way one loop (:class:`IntegratorLoop`) holds the integrator's role for the store
(:func:`vigile.store.engine.integrator_role`: a second integrator stands by, and says
so, until the first stops or dies), then integrates whatever was stored, at least four
times per ``VIGILE_INTEGRATION_DELAY`` and at once when woken by a commit of its own
process. A failing store (PostgreSQL restarting) is reported and retried; the role,
lost with its connection, is taken again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vigile.errors import VigileError
from vigile.ledger.integrate import Integrated
from vigile.ledger.service import Ledger
from vigile.store.engine import integrator_role

__all__ = ["IntegratorLoop"]

_log = logging.getLogger("vigile.ledger.integrator")
_LINGER = 0.005  # after a wake, let a few more commits arrive: fewer, larger batches


class IntegratorLoop:
    """Integrates a store's leaves until stopped."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        on_wait: Callable[[str], None] | None = None,
        on_batch: Callable[[Integrated], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.poll = ledger.settings.integration_delay / 4
        self.on_wait = on_wait or (lambda why: _log.warning("integrator standing by: %s", why))
        self.on_batch = on_batch
        self.on_error = on_error or (lambda exc: _log.error("integration failed: %s", exc))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.holding = False

    def wake(self) -> None:
        """New leaves were stored: integrate them now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        """Hold the role and integrate until :meth:`stop`; the role is taken again if
        the connection holding it is lost."""
        while not self._stop.is_set():
            try:
                with integrator_role(
                    self.ledger.engine, on_wait=self.on_wait, again=self._standing_by
                ) as held:
                    if held is None:
                        break  # stopped while standing by
                    self.holding = True
                    self._integrate_while(held)
            except VigileError as exc:  # the store is away: say so, and try again
                self.on_error(exc)
                self._stop.wait(self.poll)
            finally:
                self.holding = False
        self._integrate_once()  # what this process stored last is not left waiting

    def start(self) -> None:
        """Run in a daemon thread (``vigile serve``'s embedded integrator)."""
        self._thread = threading.Thread(target=self.run, name="vigile-integrator", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread, once it has integrated what is stored."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _standing_by(self) -> bool:
        """Between two tries for the role: wait a poll; False once stopped."""
        return not self._stop.wait(self.poll)

    def _integrate_while(self, held: Callable[[], bool]) -> None:
        while not self._stop.is_set():
            self._integrate_once(raising=True)
            if self._wake.wait(self.poll):
                self._stop.wait(_LINGER)
            self._wake.clear()
            if not held():
                return

    def _integrate_once(self, *, raising: bool = False) -> None:
        try:
            done = self.ledger.integrate()
        except VigileError as exc:
            if raising:
                raise
            self.on_error(exc)
            return
        if self.on_batch is not None:
            for batch in done:
                self.on_batch(batch)
