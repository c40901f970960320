"""Console sessions: kept in the server's memory, named by a random cookie.

A session ends after ``VIGILE_CONSOLE_IDLE_MINUTES`` without a request, after
``VIGILE_CONSOLE_SESSION_HOURS`` in all, at sign-out, or when the broker revokes the
agent's session (containment). Restarting the server signs everyone out, which is the
safe failure. Each session carries its CSRF token and, for the roles that reach the
broker, the broker token it acts with.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from vigile.console.accounts import Account

__all__ = ["ConsoleSession", "SessionBook"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsoleSession:
    id: str
    account: Account
    csrf: str
    #: The broker token of agents, supervisors and analysts (none for customers).
    token: str | None
    started: datetime
    seen: datetime


class SessionBook:
    """Live sessions by id; thread-safe."""

    def __init__(
        self, *, idle: timedelta, lifetime: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock
        self._live: dict[str, ConsoleSession] = {}
        self._lock = threading.Lock()

    def open(self, account: Account, token: str | None) -> ConsoleSession:
        now = self.clock()
        session = ConsoleSession(
            id=secrets.token_urlsafe(32),
            account=account,
            csrf=secrets.token_urlsafe(32),
            token=token,
            started=now,
            seen=now,
        )
        with self._lock:
            self._forget_expired(now)
            self._live[session.id] = session
        return session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of that id (its idle clock restarts), else ``None``."""
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            session = self._live.get(session_id)
            if session is None:
                return None
            if self._expired(session, now):
                del self._live[session_id]
                return None
            session = replace(session, seen=now)
            self._live[session_id] = session
            return session

    def close(self, session_id: str) -> None:
        with self._lock:
            self._live.pop(session_id, None)

    def _expired(self, session: ConsoleSession, now: datetime) -> bool:
        return now - session.seen > self.idle or now - session.started > self.lifetime

    def _forget_expired(self, now: datetime) -> None:
        for key in [k for k, s in self._live.items() if self._expired(s, now)]:
            del self._live[key]
