"""The store's events as Arrow tables for DuckDB: read by ``seq`` range, nothing downloaded.

DuckDB cannot read SQLite or PostgreSQL without an extension fetched at run time, so the
rows come through SQLAlchemy in batches and become Arrow columns with a fixed schema.
Agents' shifts become UTC intervals here (time zones are Python's ``zoneinfo``), so the
feature SQL needs no time-zone functions and stays portable to Spark.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing import connection as pipes
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import orjson
import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Table,
    and_,
    cast,
    create_engine,
    false,
    func,
    literal,
    not_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from vigile.detect.errors import DetectError
from vigile.detect.organisations import DirectoryCustomer, organisation_keys
from vigile.model import INCIDENT_FIELD
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = [
    "DAY_US",
    "HOUR_US",
    "EventBatch",
    "read_batches",
    "read_directory",
    "read_events",
    "shift_table",
]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
_FETCH = 50_000
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_S, _I, _F = pa.string(), pa.int64(), pa.float64()
ACCESS_SCHEMA = pa.schema(
    [("seq", _I), ("id", _S), ("time_us", _I), ("agent", _S), ("session", _S), ("ip", _S),
     ("action", _S), ("customer", _S), ("ticket", _S), ("reason", _S), ("query", _S),
     ("outcome", _S), ("result_count", _I)]
)  # fmt: skip
SIGNIN_SCHEMA = pa.schema(
    [("seq", _I), ("id", _S), ("time_us", _I), ("agent", _S), ("session", _S), ("outcome", _S),
     ("ip", _S), ("country", _S), ("lat", _F), ("lon", _F), ("device", _S)]
)  # fmt: skip
TICKET_SCHEMA = pa.schema(
    [("seq", _I), ("time_us", _I), ("ticket", _S), ("event", _S), ("customer", _S), ("agent", _S)]
)
AGENT_SCHEMA = pa.schema([("agent", _S), ("team", _S), ("has_shift", pa.bool_())])
_EVENT_TABLES = {
    "accesses": ACCESS_SCHEMA, "signins": SIGNIN_SCHEMA, "ticket_events": TICKET_SCHEMA
}  # fmt: skip
CUSTOMER_SCHEMA = pa.schema([("customer", _S), ("tier", _S), ("organisation", _S)])
SHIFT_SCHEMA = pa.schema([("agent", _S), ("day_us", _I), ("start_us", _I), ("end_us", _I)])


@dataclass(frozen=True, kw_only=True, slots=True)
class EventBatch:
    """Events with ``after < seq <= upto`` as Arrow tables; ``upto`` is the new watermark."""

    accesses: pa.Table
    signins: pa.Table
    ticket_events: pa.Table
    upto: int

    @property
    def size(self) -> int:
        """How many events the batch holds."""
        tables = (self.accesses, self.signins, self.ticket_events)
        return sum(int(table.num_rows) for table in tables)


def read_events(
    engine: Engine, *, after: int = -1, limit: int | None = None, upto: int | None = None
) -> EventBatch:
    """Events recorded after the watermark ``after`` (a ``seq``), at most about ``limit``,
    none after ``upto`` when given."""
    with connect(engine) as conn:
        window = _window(conn, after, limit, upto)
        tables = {
            name: pa.Table.from_batches(list(_chunks(conn, name, window)), schema=schema)
            for name, schema in _EVENT_TABLES.items()
        }
    return EventBatch(**tables, upto=max(window[1], after))


def _window(conn: Connection, after: int, limit: int | None, upto: int | None) -> tuple[int, int]:
    last = conn.execute(
        select(func.max(t.accesses.c.seq)).union_all(
            select(func.max(t.signins.c.seq)), select(func.max(t.ticket_events.c.seq))
        )
    ).scalars()
    top = max((value for value in last if value is not None), default=after)
    top = top if upto is None else min(top, upto)
    return after, top if limit is None else min(top, after + limit)


def _chunks(conn: Connection, name: str, window: tuple[int, int]) -> Iterator[pa.RecordBatch]:
    if name == "accesses":
        return _access_chunks(conn, window)
    table, schema = t.metadata.tables[name], _EVENT_TABLES[name]
    return _read(conn, _query(table, schema, window), schema, None)


def read_batches(
    engine: Engine, *, after: int = -1, limit: int | None, upto: int | None = None
) -> Iterator[EventBatch]:
    """Every event after ``after`` (up to ``upto``) in batches of ``limit`` (None: one
    batch), ending with an empty one. The next batch is read while the caller works on
    this one: in a process of its own when there are more than a few batches to read (the
    read is Python work on the store's cursor, which in a thread would contend for the
    interpreter lock with the caller's), else in a thread (the caller's work is mostly
    DuckDB's, which runs without the lock)."""
    if limit is not None and _worth_a_process(engine, after, limit, upto):
        yield from _read_in_process(engine, after=after, limit=limit, upto=upto)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigile-read") as pool:
        pending = pool.submit(read_events, engine, after=after, limit=limit, upto=upto)
        while True:
            batch = pending.result()
            # A window of seq numbers may hold no event (gaps): only the top ends the read.
            more = limit is not None and batch.upto > after
            if more:
                pending = pool.submit(read_events, engine, after=batch.upto, limit=limit, upto=upto)
            yield batch
            if not more:
                return
            after = batch.upto


_PROCESS_BATCHES = 3  # a process costs a second or two to start: worth it beyond this


def _worth_a_process(engine: Engine, after: int, limit: int, upto: int | None) -> bool:
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return False  # an in-memory store is this process's only
    with connect(engine) as conn:
        top = conn.execute(select(func.max(t.accesses.c.seq))).scalar()
    if top is None:
        return False
    last = min(int(top), upto) if upto is not None else int(top)
    return last - after > _PROCESS_BATCHES * limit


def _read_in_process(
    engine: Engine, *, after: int, limit: int, upto: int | None
) -> Iterator[EventBatch]:
    # A fresh interpreter running this module's reader (not multiprocessing's spawn, which
    # re-imports the caller's main script), batches sent through a pipe in chunks.
    receive, send = os.pipe()
    url = engine.url.render_as_string(hide_password=False)  # through stdin, never argv
    reader = subprocess.Popen(  # noqa: S603 - our interpreter and module
        [sys.executable, "-c", f"from vigile.detect.source import _serve; _serve({send})"],
        stdin=subprocess.PIPE, pass_fds=(send,),
    )  # fmt: skip
    os.close(send)
    receiver = pipes.Connection(receive, writable=False)
    try:
        assert reader.stdin is not None
        reader.stdin.write(pickle.dumps((url, after, limit, upto)))
        reader.stdin.close()
        while True:
            batch = _receive(receiver)
            last = batch.upto <= after  # nothing after the last batch
            after = batch.upto
            yield batch
            del batch  # the caller holds it while it needs it, not while the next arrives
            if last:
                return
    finally:
        receiver.close()
        try:
            reader.wait(timeout=5)
        except subprocess.TimeoutExpired:
            reader.kill()
            reader.wait()


def _receive(receiver: pipes.Connection) -> EventBatch:
    """One batch from the reader process: its chunks, then its watermark."""
    chunks: dict[str, list[pa.RecordBatch]] = {name: [] for name in _EVENT_TABLES}
    while True:
        try:
            sent = receiver.recv()
        except EOFError as exc:
            raise DetectError("the store reader stopped without a word") from exc
        if isinstance(sent, Exception):
            raise DetectError(f"cannot read events: {sent}")
        if isinstance(sent, int):
            tables = {
                name: pa.Table.from_batches(chunks[name], schema=schema)
                for name, schema in _EVENT_TABLES.items()
            }
            return EventBatch(**tables, upto=sent)
        name, chunk = sent
        chunks[name].append(chunk)


def _serve(fd: int) -> None:
    """In the reader process: every batch, then the empty one, each read whole and then
    sent chunk by chunk (the batch's watermark last). The next batch is read while the
    caller works on this one; the reader holds one batch, and only a chunk's pickle at a
    time, never a whole batch's (which doubled its memory)."""
    url, after, limit, upto = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - our parent's
    sender = pipes.Connection(fd, readable=False)
    engine = create_engine(url)
    try:
        while True:
            # The batch sent is released before the next is read: one in memory at a time.
            sent = _send(sender, read_events(engine, after=after, limit=limit, upto=upto))
            if sent <= after:
                return
            after = sent
    except BrokenPipeError:
        return  # the caller stopped reading
    except Exception as exc:  # handed to the caller, which raises it
        sender.send(DetectError(str(exc)))
    finally:
        sender.close()
        engine.dispose()


def _send(sender: pipes.Connection, batch: EventBatch) -> int:
    for name in _EVENT_TABLES:
        for chunk in getattr(batch, name).to_batches():
            sender.send((name, chunk))
    sender.send(batch.upto)
    return batch.upto


def _query(table: Table, schema: pa.Schema, window: tuple[int, int]) -> Select[Any]:
    columns = [table.c[name] for name in schema.names]
    return select(*columns).where(table.c.seq > window[0], table.c.seq <= window[1])


def _access_chunks(conn: Connection, window: tuple[int, int]) -> Iterator[pa.RecordBatch]:
    # SQLite counts the search results itself (JSON1 is built in); elsewhere Python does.
    a = t.accesses
    names = [n for n in ACCESS_SCHEMA.names if n != "result_count"]
    in_window = (a.c.seq > window[0], a.c.seq <= window[1], not_(_incident_read(conn)))
    if conn.dialect.name == "sqlite":
        count = func.json_array_length(a.c.results)
        query = select(*(a.c[n] for n in names), count).where(*in_window)
        return _read(conn, query, ACCESS_SCHEMA, None)
    query = select(*(a.c[n] for n in names), a.c.results).where(*in_window)
    return _read(conn, query, ACCESS_SCHEMA, _access_row)


def _incident_read(conn: Connection) -> ColumnElement[bool]:
    """An access justified by an incident (the extra field ``incident``, a string): an
    analyst's read during breach response (:mod:`vigile.respond.reads`). Detection leaves
    them out, deliberately: an incident page shows hundreds of customers at once, which
    read as an agent's would be a harvest; they are the customers' to see in their
    transparency log, and the analyst's sign-ins are still judged. True or false, never
    null; the LIKE spares parsing the extra fields of every other access."""
    extra = t.accesses.c.extra
    if conn.dialect.name == "sqlite":
        typed = func.json_type(extra, f"$.{INCIDENT_FIELD}") == "text"
    else:
        value = cast(extra, JSONB).op("->")(literal(INCIDENT_FIELD))
        typed = func.jsonb_typeof(value) == "string"
    return and_(
        extra.is_not(None),
        extra.like(f'%"{INCIDENT_FIELD}":%'),
        func.coalesce(typed, false()),
    )


def _access_row(row: Sequence[object]) -> tuple[object, ...]:
    results = row[-1]
    count = len(orjson.loads(results)) if isinstance(results, str) else None
    return (*row[:-1], count)


def _read(
    conn: Connection, query: Select[Any], schema: pa.Schema, shape: Any
) -> Iterator[pa.RecordBatch]:
    # The DB-API cursor directly: SQLAlchemy's Row objects cost a third of the read, and
    # the only parameters are the two integers of the watermark window.
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    struct = pa.struct(list(schema))
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_FETCH):
            if shape is not None:
                rows = [shape(row) for row in rows]
            # Arrow converts the row tuples as structs in C++, ten times faster than
            # transposing them into columns in Python.
            yield pa.RecordBatch.from_struct_array(pa.array(rows, type=struct))
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DetectError(f"cannot read events: {exc}") from exc
    finally:
        cursor.close()


def read_directory(engine: Engine) -> tuple[pa.Table, pa.Table, dict[str, tuple[str, str]]]:
    """Agents (id, team), customers (id, tier, organisation: :mod:`organisations`) and
    each agent's (timezone, shift JSON)."""
    with connect(engine) as conn:
        agent_rows = conn.execute(
            select(t.agents.c.id, t.agents.c.team, t.agents.c.timezone, t.agents.c.shift)
        ).all()
        customer_rows = conn.execute(
            select(
                t.customers.c.id, t.customers.c.tier, t.customers.c.name,
                t.customers.c.country, t.customers.c.extra,
            )
        ).all()  # fmt: skip
        email_rows = conn.execute(
            select(t.contacts.c.customer, t.contacts.c.email).where(t.contacts.c.email.is_not(None))
        ).all()
    agents = pa.Table.from_pylist(
        [
            {"agent": r[0], "team": r[1] or f"(no team) {r[0]}", "has_shift": has_shift(r[3])}
            for r in agent_rows
        ],
        schema=AGENT_SCHEMA,
    )
    emails: dict[str, list[str]] = {}
    for customer, email in email_rows:
        emails.setdefault(customer, []).append(email)
    organisation = organisation_keys(
        DirectoryCustomer(
            id=r[0], name=r[2], country=r[3], parent=_parent(r[4]),
            emails=tuple(emails.get(r[0], ())),
        )
        for r in customer_rows
    )  # fmt: skip
    customers = pa.Table.from_pylist(
        [
            {"customer": r[0], "tier": r[1], "organisation": organisation[r[0]]}
            for r in customer_rows
        ],
        schema=CUSTOMER_SCHEMA,
    )
    shifts = {r[0]: (r[2] or "UTC", r[3] or "") for r in agent_rows}
    return agents, customers, shifts


def shift_table(shifts: dict[str, tuple[str, str]], first_us: int, last_us: int) -> pa.Table:
    """Each agent's shifts as ``[start_us, end_us)`` pieces within a UTC day (``day_us``):
    a night shift is two pieces. Joined on (agent, day), an access meets at most two.

    An agent without a declared shift gets no rows, and ``agents.has_shift`` false: the SQL
    then counts none of their work as off shift (no shift known, no claim made).
    """
    first = datetime.fromtimestamp(first_us / 1e6, UTC).date() - timedelta(days=1)
    last = datetime.fromtimestamp(last_us / 1e6, UTC).date() + timedelta(days=1)
    # Agents share a few (zone, shift) pairs: each pair's pieces are computed once.
    by_shift: dict[tuple[str, str], list[str]] = {}
    for agent, (zone, shift) in shifts.items():
        by_shift.setdefault((zone, shift), []).append(agent)
    tables = []
    for (zone, shift), agents in by_shift.items():
        pieces = [
            p for start, end in _intervals(zone, shift, first, last) for p in _per_day(start, end)
        ]
        if not pieces:
            continue
        days, starts, ends = (np.asarray(c, dtype=np.int64) for c in zip(*pieces, strict=True))
        tables.append(
            pa.table(
                [
                    pa.array(np.repeat(np.asarray(agents, dtype=object), len(pieces)), _S),
                    np.tile(days, len(agents)),
                    np.tile(starts, len(agents)),
                    np.tile(ends, len(agents)),
                ],
                schema=SHIFT_SCHEMA,
            )
        )
    return pa.concat_tables(tables) if tables else SHIFT_SCHEMA.empty_table()


def has_shift(shift: str | None) -> bool:
    """Whether a stored shift declares working days."""
    return bool(shift) and bool(orjson.loads(shift or "{}").get("days"))


def _intervals(zone: str, shift: str, first: date, last: date) -> Iterator[tuple[int, int]]:
    if not has_shift(shift):
        return
    spec = orjson.loads(shift or "{}")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    start_h, start_m = (int(x) for x in spec.get("start", "00:00").split(":"))
    end_h, end_m = (int(x) for x in spec.get("end", "23:59").split(":"))
    day = first
    while day <= last:
        if _WEEKDAYS[day.weekday()] in spec["days"]:
            begin = datetime(day.year, day.month, day.day, start_h, start_m, tzinfo=tz)
            end = datetime(day.year, day.month, day.day, end_h, end_m, tzinfo=tz)
            if end <= begin:  # a night shift ends the next day
                end += timedelta(days=1)
            yield int(begin.timestamp() * 1e6), int(end.timestamp() * 1e6)
        day += timedelta(days=1)


def _per_day(start: int, end: int) -> Iterator[tuple[int, int, int]]:
    day = start - start % DAY_US
    while day < end:
        yield day, max(start, day), min(end, day + DAY_US)
        day += DAY_US


def _parent(extra: str | None) -> str | None:
    """The parent customer a directory record names in its extra fields, if any."""
    if not extra:
        return None
    try:
        found = orjson.loads(extra)
    except orjson.JSONDecodeError:
        return None
    parent = found.get("parent") if isinstance(found, dict) else None
    return parent if isinstance(parent, str) and parent else None
