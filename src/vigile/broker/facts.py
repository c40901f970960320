"""The facts a decision reads, on connections the broker holds open.

A decision needs the customer and its objects, the agent, the ticket as it stands now,
the agent's active grants and whether it is suspended: read from the store at the moment of
the request, so a ticket step, a grant or a suspension written by anyone (the integration
endpoint, ``vigile ingest``, another broker process) counts from the next request on.

Taking a connection from SQLAlchemy's pool and running its statements costs more than
the reads themselves (about 145 µs a checkout, 40 µs a statement). So these reads run as
plain SQL on DB-API connections the broker opens itself, in autocommit mode (each
statement sees the latest commit), kept in a free list and shared by the request threads
one at a time. At most ``VIGILE_BROKER_READ_CONNECTIONS`` are open: a request that finds
them all busy waits for one (a PostgreSQL server's connection slots are finite).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, Table

from vigile.broker.grants import Grant, GrantStatus, grant_of_row
from vigile.broker.velocity import Stored
from vigile.errors import StoreError
from vigile.model import (
    Account,
    Action,
    Agent,
    Contact,
    Customer,
    Subscription,
    Ticket,
    TicketStep,
)
from vigile.model.times import from_micros, to_micros
from vigile.policy.masking import SENSITIVE_FIELDS
from vigile.store import tables as t
from vigile.store.engine import describe
from vigile.store.rows import from_row

__all__ = ["FactReader", "Facts"]

DirectoryObject = Contact | Account | Subscription
_OBJECTS: dict[str, tuple[type[DirectoryObject], Table]] = {
    "contact": (Contact, t.contacts),
    "account": (Account, t.accounts),
    "subscription": (Subscription, t.subscriptions),
}


#: Allowed accesses that reach no customer's data (velocity counts no customer for them).
_NO_CUSTOMER_DATA = frozenset({Action.CUSTOMER_SEARCH.value, Action.GRANT_REQUEST.value})

_COLUMNS = {
    str(table.name): tuple(str(c.name) for c in table.columns) for table in t.metadata.sorted_tables
}


def _select(table: Table, where: str, order: str = "") -> str:
    names = ", ".join(f'"{c}"' for c in _COLUMNS[str(table.name)])
    tail = f" ORDER BY {order}" if order else ""
    return f'SELECT {names} FROM "{table.name}" WHERE {where}{tail}'  # noqa: S608 - our names


def _ai_only(extra: str | None) -> dict[str, Any]:
    """Of an agent's extra fields, the AI profile alone (what the policies read: any
    other field would make the same agent's entity differ between reads)."""
    if not extra or '"ai"' not in extra:
        return {}
    found = orjson.loads(extra).get("ai")
    return {"ai": found} if isinstance(found, dict) else {}


class _Sql:
    """The statements, in the driver's parameter style."""

    def __init__(self, mark: str) -> None:
        m = mark
        # The agent and its suspension in one round trip.
        self.agent = (
            "SELECT a.id, a.team, a.tier, s.reason, a.extra FROM agents a"  # noqa: S608
            f" LEFT JOIN broker_suspensions s ON s.agent = a.id WHERE a.id = {m}"
        )
        self.customer = f"SELECT id, name, tier, country FROM customers WHERE id = {m}"  # noqa: S608
        self.object = {k: _select(tab, f"id = {m}") for k, (_, tab) in _OBJECTS.items()}
        self.of_customer = {
            k: _select(tab, f"customer = {m}", "id") for k, (_, tab) in _OBJECTS.items()
        }
        self.ticket = (
            "SELECT event, customer, agent, category, time_us FROM ticket_events"  # noqa: S608
            f" WHERE ticket = {m} AND time_us <= {m} ORDER BY time_us, seq"
        )
        self.grant = _select(
            t.broker_grants,
            f"agent = {m} AND customer = {m} AND status = {m} AND expires_us > {m}",
            "customer_approved DESC, expires_us DESC",
        )
        # On SQLite ``seq`` is the rowid, which the (agent, time_us) index carries: only
        # the rows after ``seq`` are read from the table.
        self.allowed = (
            "SELECT seq, id, time_us, customer, action, fields FROM accesses"  # noqa: S608
            f" WHERE agent = {m} AND time_us >= {m} AND seq > {m} AND outcome = 'allowed'"
        )
        self.suspension = f"SELECT reason FROM broker_suspensions WHERE agent = {m}"  # noqa: S608
        self.session = f"SELECT agent, revoked_us FROM broker_sessions WHERE session = {m}"  # noqa: S608


class Facts:
    """Reads on one held connection (see :class:`FactReader`)."""

    def __init__(self, cursor: Any, sql: _Sql) -> None:
        self._cursor = cursor
        self._sql = sql

    def _rows(self, sql: str, params: Sequence[Any], table: Table) -> list[dict[str, Any]]:
        names = _COLUMNS[str(table.name)]
        self._cursor.execute(sql, tuple(params))
        return [dict(zip(names, row, strict=True)) for row in self._cursor.fetchall()]

    def agent(self, agent_id: str) -> tuple[Agent | None, str | None]:
        """The agent as the policies see it (id, team, tier, and an AI agent's profile),
        and why it is suspended (``None`` when it is not)."""
        self._cursor.execute(self._sql.agent, (agent_id,))
        row = self._cursor.fetchone()
        if row is None:
            return None, None
        return Agent(id=row[0], team=row[1], tier=row[2], extra=_ai_only(row[4])), row[3]

    def customer(self, customer_id: str) -> Customer | None:
        self._cursor.execute(self._sql.customer, (customer_id,))
        row = self._cursor.fetchone()
        return (
            None if row is None else Customer(id=row[0], name=row[1], tier=row[2], country=row[3])
        )

    def objects_of(self, kind: str, customer_id: str) -> list[DirectoryObject]:
        """The customer's contacts, accounts or subscriptions (``kind`` singular), by id."""
        record_type, table = _OBJECTS[kind]
        rows = self._rows(self._sql.of_customer[kind], (customer_id,), table)
        return [from_row(record_type, row) for row in rows]

    def object(self, kind: str, object_id: str) -> DirectoryObject | None:
        """The contact, account or subscription ``object_id`` (any customer's)."""
        record_type, table = _OBJECTS[kind]
        rows = self._rows(self._sql.object[kind], (object_id,), table)
        return from_row(record_type, rows[0]) if rows else None

    def ticket_as_of(self, ticket_id: str, moment: datetime) -> Ticket | None:
        """The ticket as it stood at ``moment`` (as :meth:`vigile.store.Store.ticket_as_of`)."""
        ticket: Ticket | None = None
        self._cursor.execute(self._sql.ticket, (ticket_id, to_micros(moment)))
        for event, customer, agent, category, time_us in self._cursor.fetchall():
            if event == TicketStep.OPENED.value and customer is not None:
                ticket = Ticket(
                    id=ticket_id,
                    customer=customer,
                    category=category,
                    opened_at=from_micros(time_us),
                )
            elif ticket is not None and event == TicketStep.ASSIGNED.value:
                ticket = replace(ticket, assignee=agent)
            elif ticket is not None and event == TicketStep.CLOSED.value:
                ticket = replace(ticket, closed_at=from_micros(time_us))
        return ticket

    def active_grants(self, agent: str, customer: str, now: datetime) -> list[Grant]:
        """The agent's approved grants for the customer not yet expired, customer-approved
        first, then the longest lasting. Expired and revoked grants never count (the query
        excludes them whether or not a sweep has recorded their end)."""
        params = (agent, customer, GrantStatus.APPROVED.value, to_micros(now))
        return [grant_of_row(row) for row in self._rows(self._sql.grant, params, t.broker_grants)]

    def allowed_accesses(self, agent: str, *, since: datetime, after_seq: int) -> list[Stored]:
        """The agent's allowed accesses stored after ``after_seq``, at ``since`` or later,
        as velocity limits count them (:data:`~vigile.broker.velocity.Stored`): a search
        or a grant request reaches no customer's data; a reveal is an access that showed a
        sensitive field in clear."""
        self._cursor.execute(self._sql.allowed, (agent, to_micros(since), after_seq))
        return [
            (
                seq,
                access,
                from_micros(time_us),
                None if action in _NO_CUSTOMER_DATA else customer,
                not SENSITIVE_FIELDS.isdisjoint(orjson.loads(fields)),
            )
            for seq, access, time_us, customer, action, fields in self._cursor.fetchall()
        ]

    def suspension(self, agent: str) -> str | None:
        """Why ``agent`` is suspended, or ``None`` (known to the directory or not)."""
        self._cursor.execute(self._sql.suspension, (agent,))
        row = self._cursor.fetchone()
        return None if row is None else str(row[0])

    def session_state(self, session: str, agent: str) -> str:
        """``new``, ``open`` or ``revoked`` (as :meth:`vigile.broker.Sessions.state`)."""
        self._cursor.execute(self._sql.session, (session,))
        row = self._cursor.fetchone()
        if row is None:
            return "new"
        return "revoked" if row[1] is not None or row[0] != agent else "open"


class FactReader:
    """A free list of DB-API connections on the store, opened on demand (one per
    concurrent reader, ``limit`` at most) and closed by :meth:`close` or when the reader
    goes."""

    def __init__(self, engine: Engine, *, lock_timeout: float, limit: int = 16) -> None:
        self._engine = engine
        self._lock_timeout = lock_timeout
        self._limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._sql = _Sql("?" if engine.dialect.paramstyle == "qmark" else "%s")
        self._idle: list[Any] = []
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False
        self._errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
        dbapi = engine.dialect.loaded_dbapi
        if dbapi is not None:
            self._errors = (*self._errors, dbapi.Error)
        # Close what was opened even if nobody calls close() (the list is shared).
        weakref.finalize(self, _close_all, self._all)

    @contextmanager
    def reading(self) -> Iterator[Facts]:
        """A :class:`Facts` on a held connection; store errors become :class:`StoreError`."""
        if not self._slots.acquire(timeout=self._lock_timeout):
            where = describe(self._engine.url)
            raise StoreError(
                f"{where}: all {self._limit} read connections stayed busy for "
                f"{self._lock_timeout:g} s (VIGILE_BROKER_READ_CONNECTIONS)"
            )
        try:
            yield from self._read()
        finally:
            self._slots.release()

    def _read(self) -> Iterator[Facts]:
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._open()
        try:
            cursor = conn.cursor()
            try:
                yield Facts(cursor, self._sql)
            finally:
                cursor.close()
        except self._errors as exc:
            self._discard(conn)
            where = describe(self._engine.url)
            raise StoreError(f"{where}: {str(exc).strip().splitlines()[0]}") from exc
        except BaseException:
            self._idle.append(conn)
            raise
        self._idle.append(conn)

    def close(self) -> None:
        """Close every connection; later reads open new ones."""
        with self._lock:
            self._idle.clear()
            _close_all(self._all)

    def _open(self) -> Any:
        dialect = self._engine.dialect
        args, kwargs = dialect.create_connect_args(self._engine.url)
        try:
            if dialect.name == "sqlite":
                kwargs = {**kwargs, "check_same_thread": False, "timeout": self._lock_timeout}
                conn = dialect.loaded_dbapi.connect(*args, **kwargs)
                conn.isolation_level = None  # autocommit: each read sees the latest commit
                conn.execute(f"PRAGMA busy_timeout={int(self._lock_timeout * 1000)}")
            else:
                conn = dialect.loaded_dbapi.connect(*args, **kwargs)
                conn.autocommit = True
        except self._errors as exc:
            where = describe(self._engine.url)
            raise StoreError(f"{where}: cannot connect: {exc}") from exc
        with self._lock:
            self._all.append(conn)
        return conn

    def _discard(self, conn: Any) -> None:
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        with suppress(*self._errors):
            conn.close()


def _close_all(connections: list[Any]) -> None:
    while connections:
        conn = connections.pop()
        try:
            conn.close()
        except Exception:  # noqa: S112 - closing what may already be broken
            continue
