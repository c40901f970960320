"""`vigile export`: the store's records, streamed in ``seq`` order, to one file.

Bounded memory: each event table is read in pages of ``chunk`` rows by ``seq`` (its
primary key) and the tables merged by ``seq``. The file appears only when the export
succeeds (:class:`ActivityLogWriter` writes a temporary file and renames it), gzip when
its name ends in ``.gz``.

- ``activity-log``: the spec's header, the directory (every agent, customer, contact,
  account and subscription), then the ticket steps, sign-ins and accesses in the window.
  Ingested into an empty store it gives the same records. Vigile's own audit events are
  no kind of the spec and are left out.
- ``ocsf``: JSON Lines of OCSF 1.3.0 events, sign-ins as Authentication (3002) and
  accesses as API Activity (6003) (:mod:`vigile.activitylog.ocsf`); ticket steps have no
  OCSF class in the spec's mapping and are counted as skipped.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select

from vigile.activitylog import ActivityLogWriter, encode, ocsf
from vigile.errors import InputError
from vigile.model import Access, Account, Agent, Contact, Customer, SignIn, Subscription
from vigile.model.times import EARLIEST_US, LATEST_US, parse_rfc3339, to_micros
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect
from vigile.store.rows import from_row, spec_object

__all__ = ["ExportFormat", "ExportSummary", "WindowError", "export_store", "parse_window"]

Progress = Callable[[float, float | None], None]

_DIRECTORY: tuple[tuple[Table, type[Any]], ...] = (
    (t.agents, Agent),
    (t.customers, Customer),
    (t.contacts, Contact),
    (t.accounts, Account),
    (t.subscriptions, Subscription),
)


class ExportFormat(StrEnum):
    ACTIVITY_LOG = "activity-log"
    OCSF = "ocsf"


class WindowError(InputError):
    """``--since`` or ``--until`` is not an RFC 3339 time, or the window is empty."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportSummary:
    """What an export wrote: ``records`` lines (directory and events), ``events`` of them
    events, ``skipped`` events with no place in the format."""

    out: str
    format: str
    records: int
    events: int
    skipped: int
    since: str | None
    until: str | None


def parse_window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` (RFC 3339, inclusive) as UTC datetimes."""
    start, end = _time("--since", since), _time("--until", until)
    if start is not None and end is not None and start > end:
        raise WindowError(f"--since ({since}) is after --until ({until})")
    return start, end


def _time(name: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise WindowError(f"{name}: {exc}") from exc


def export_store(
    store: Store,
    out: Path,
    *,
    format: ExportFormat = ExportFormat.ACTIVITY_LOG,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    chunk: int = 10_000,
) -> ExportSummary:
    """Write the store's records between ``since`` and ``until`` (inclusive) to ``out``."""
    window = (
        EARLIEST_US if since is None else to_micros(since),
        LATEST_US if until is None else to_micros(until),
    )
    tables = _event_tables(format)
    header = format is ExportFormat.ACTIVITY_LOG
    with connect(store.engine) as conn, ActivityLogWriter(out, header=header) as writer:
        total = sum(_count(conn, table, window) for table in tables)
        if header:
            for table, kind in _DIRECTORY:
                writer.write_many(encode(from_row(kind, row)) for row in _all(conn, table))
        lines = writer.count
        employers = _employers(conn) if format is ExportFormat.OCSF else {}
        skipped = 0 if header else _count(conn, t.ticket_events, window)
        done = 0
        for table, row in heapq.merge(
            *(_pages(conn, table, window, chunk) for table in tables), key=lambda item: item[1].seq
        ):
            writer.write(_line(format, table, row, employers))
            done += 1
            if progress is not None and done % chunk == 0:
                progress(done, total)
        if progress is not None:
            progress(done, total)
    return ExportSummary(
        out=str(out),
        format=format.value,
        records=writer.count - (1 if header else 0),
        events=writer.count - lines,
        skipped=skipped,
        since=None if since is None else since.isoformat(),
        until=None if until is None else until.isoformat(),
    )


def _event_tables(format: ExportFormat) -> tuple[Table, ...]:
    if format is ExportFormat.OCSF:
        return (t.signins, t.accesses)
    return (t.ticket_events, t.signins, t.accesses)


def _line(
    format: ExportFormat, table: Table, row: Any, employers: dict[str, str]
) -> dict[str, Any]:
    if format is ExportFormat.ACTIVITY_LOG:
        return spec_object(table.name, tuple(row))
    if table is t.signins:
        signin = from_row(SignIn, row._mapping)
        return ocsf.authentication(signin, employer=employers.get(signin.agent))
    access = from_row(Access, row._mapping)
    return ocsf.access_event(access, employer=employers.get(access.agent))


def _pages(
    conn: Connection, table: Table, window: tuple[int, int], chunk: int
) -> Iterator[tuple[Table, Any]]:
    """The table's rows in the window, by ``seq``, ``chunk`` at a time."""
    after = -1
    while True:
        query = (
            select(table)
            .where(table.c.seq > after, table.c.time_us.between(*window))
            .order_by(table.c.seq)
            .limit(chunk)
        )
        rows = conn.execute(query).all()
        for row in rows:
            yield table, row
        if len(rows) < chunk:
            return
        after = rows[-1].seq


def _count(conn: Connection, table: Table, window: tuple[int, int]) -> int:
    query = select(func.count()).select_from(table).where(table.c.time_us.between(*window))
    return int(conn.execute(query).scalar_one())


def _all(conn: Connection, table: Table) -> Iterator[Any]:
    yield from conn.execute(select(table).order_by(table.c.id)).mappings()


def _employers(conn: Connection) -> dict[str, str]:
    query = select(t.agents.c.id, t.agents.c.employer).where(t.agents.c.employer.is_not(None))
    return {str(agent): str(employer) for agent, employer in conn.execute(query).all()}
