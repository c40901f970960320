"""Console sessions: kept in the store, named by a random cookie.

Every broker process serving the console reads the same sessions (``console_sessions``),
so a session opened through one process works through any other, and one closed (sign-out,
revocation by containment, a disabled account) is closed everywhere at the next request.
The store holds the SHA-256 of the cookie, not the cookie.

A session ends after ``VIGILE_CONSOLE_IDLE_MINUTES`` without a request, after
``VIGILE_CONSOLE_SESSION_HOURS`` in all, at sign-out, when its account is disabled, or
when the broker revokes the agent's session (containment). Each session carries its CSRF
token and, for the roles that reach the broker, the broker token it acts with.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, insert, select, update

from vigile.console.accounts import Account
from vigile.model.times import from_micros, to_micros
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["ConsoleSession", "SessionBook"]

#: The idle clock is written back at most this often (a write per request would be the
#: console's heaviest load on the store).
_SEEN_STEP = timedelta(seconds=10)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsoleSession:
    id: str
    account: Account
    csrf: str
    #: The broker token of agents, supervisors and analysts (none for customers).
    token: str | None
    started: datetime
    seen: datetime


def _key(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


class SessionBook:
    """Live sessions by id, in the store; thread- and process-safe."""

    def __init__(
        self,
        store: Store,
        *,
        idle: timedelta,
        lifetime: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock

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
        table = t.console_sessions
        with connect(self.store.engine) as conn, conn.begin():
            conn.execute(delete(table).where(self._expired_rows(now)))
            conn.execute(
                insert(table).values(
                    id=_key(session.id),
                    username=account.username,
                    csrf=session.csrf,
                    token=token,
                    started_us=to_micros(now),
                    seen_us=to_micros(now),
                )
            )
        return session

    def get(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of that id (its idle clock restarts), else ``None``."""
        if not session_id:
            return None
        now = self.clock()
        table, accounts = t.console_sessions, t.console_accounts
        query = (
            select(table, accounts.c.role, accounts.c.subject, accounts.c.totp_secret)
            .join(accounts, accounts.c.username == table.c.username)
            .where(table.c.id == _key(session_id))
        )
        with connect(self.store.engine) as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        started, seen = from_micros(row.started_us), from_micros(row.seen_us)
        if now - seen > self.idle or now - started > self.lifetime:
            self.close(session_id)
            return None
        # A disabled account's session is the caller's to end, with its reason.
        account = Account(
            username=row.username, role=row.role, subject=row.subject, totp_secret=row.totp_secret
        )
        session = ConsoleSession(
            id=session_id,
            account=account,
            csrf=row.csrf,
            token=row.token,
            started=started,
            seen=seen,
        )
        if now - seen >= _SEEN_STEP:
            with connect(self.store.engine) as conn, conn.begin():
                conn.execute(
                    update(table)
                    .where(table.c.id == _key(session_id))
                    .values(seen_us=to_micros(now))
                )
        return replace(session, seen=now)

    def close(self, session_id: str) -> None:
        table = t.console_sessions
        with connect(self.store.engine) as conn, conn.begin():
            conn.execute(delete(table).where(table.c.id == _key(session_id)))

    def _expired_rows(self, now: datetime) -> ColumnElement[bool]:
        table = t.console_sessions
        idle_since = to_micros(now - self.idle)
        started_since = to_micros(now - self.lifetime)
        return (table.c.seen_us < idle_since) | (table.c.started_us < started_since)
