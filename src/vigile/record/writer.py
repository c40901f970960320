"""Events into rows and queued ledger leaves, in the caller's transaction.

:func:`prepare` turns a record into its row and, where it is final, its leaf hash: the
callers do it (ingest's decoding workers, the broker's request threads), outside the one
serial step. :class:`EventWriter` then upserts the directory records, numbers the new
events (``seq``), drops those already stored, inserts them and queues their leaves for
the ledger's integrator (``ledger_leaves``), all in one transaction. No Merkle work
here: the integrator (:mod:`vigile.ledger.integrate`) extends the tree afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Table, select

from vigile.ledger.hashing import leaf_hash
from vigile.ledger.leaves import LeafQueue, QueuedLeaf
from vigile.ledger.sql import event_leaf
from vigile.model import Record
from vigile.store import tables as t
from vigile.store.rows import COLUMNS, to_values
from vigile.store.writes import Values, bulk_insert, next_seq, upsert_for

__all__ = ["EventWriter", "Prepared", "prepare"]

#: ``(table, row in column order, leaf hash if already computed)``: what ``write`` takes.
Prepared = tuple[str, Values, bytes | None]
_TABLES: dict[str, Table] = {table.name: table for table in t.metadata.tables.values()}
_EVENTS = frozenset(table.name for table in t.EVENT_TABLES)
_SESSION_MEMORY = 1_000_000  # sessions whose sign-in address we remember while writing
_A = {name: i for i, name in enumerate(COLUMNS["accesses"])}
_S = {name: i for i, name in enumerate(COLUMNS["signins"])}


def prepare(record: Record) -> Prepared:
    """The row of a record and, for an event whose row is final, its leaf hash (the leaf
    does not include ``seq``, so it holds before numbering). An access without an
    address gets its session's at write time, and its leaf there."""
    table, values = to_values(record)
    if table not in _EVENTS or (table == "accesses" and values[_A["ip"]] is None):
        return table, values, None
    return table, values, leaf_hash(event_leaf(table, (0, *values[1:])))


class EventWriter:
    """Writes batches of ``(table, values)`` in one connection's transaction.

    Directory records are upserted; events new to the store get the next ``seq`` and
    their leaf queued for the ledger, in that order, before the transaction commits.
    """

    def __init__(
        self, conn: Connection, leaves: LeafQueue, *, known: bool = False, track: bool = False
    ) -> None:
        """``known``: the caller knows nobody stored events since ``leaves`` was last
        seen complete (its size is the next ``seq``; else the event tables are read).
        ``track``: keep each stored event's leaf by event id (``queued``), for the
        promises a few events' caller hands out (not for a whole file's load)."""
        self.conn = conn
        first_seq = leaves.size
        if not known:
            leaves.check_complete(next_seq(conn))
        self.first_seq = first_seq
        self.seq = first_seq
        self.leaves = leaves
        self.stored: Counter[str] = Counter()
        self.upserted: Counter[str] = Counter()
        self.duplicates = 0
        self.session_ips: dict[str, str] = {}
        self.queued: dict[str, QueuedLeaf] | None = {} if track else None
        self._upsert = upsert_for(conn.dialect.name)
        self._mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"

    def write(self, records: Sequence[Prepared]) -> None:
        directory: dict[str, dict[str, Values]] = {}
        events: list[Prepared] = []
        for table, values, digest in records:
            if table in _EVENTS:
                events.append((table, values, digest))
            else:
                directory.setdefault(table, {})[values[0]] = values
        for table, rows in directory.items():
            columns = COLUMNS[table]
            self._upsert(
                self.conn,
                _TABLES[table],
                [dict(zip(columns, r, strict=True)) for r in rows.values()],
            )
            self.upserted[table] += len(rows)
        self._append(events)
        self.leaves.flush()

    def _append(self, events: list[Prepared]) -> None:
        fresh = self._unseen(events)
        self.duplicates += len(events) - len(fresh)
        addresses = self._session_addresses(fresh)
        rows: dict[str, list[Values]] = {}
        searches: list[Values] = []
        seq = self.seq
        for table, values, precomputed in fresh:
            row, digest = values, precomputed
            if table == "accesses":
                if row[_A["ip"]] is None:  # the leaf changes with it: computed below
                    row, digest = _with(row, _A["ip"], addresses.get(row[_A["session"]])), None
                if row[_A["results"]] is not None:
                    searches.extend(_search_rows(row, seq))
            row = (seq, *row[1:])
            rows.setdefault(table, []).append(row)
            if digest is None:
                leaf = self.leaves.append_event(table, row)
            else:  # the leaf does not include ``seq``: a hash computed before numbering holds
                leaf = self.leaves.append_leaf_hash(digest)
            if self.queued is not None:
                self.queued[row[1]] = leaf
            seq += 1
        self.seq = seq
        for table, batch in rows.items():
            self._insert(table, COLUMNS[table], batch)
            self.stored[table] += len(batch)
        if searches:
            self._insert("search_results", ("customer", "time_us", "access_seq"), searches)

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[Values]) -> None:
        bulk_insert(self.conn, table, columns, rows)

    def _unseen(self, events: list[Prepared]) -> list[Prepared]:
        """Events whose id is neither earlier in this batch nor already stored."""
        ids: dict[str, set[str]] = {}
        for table, values, _ in events:
            ids.setdefault(table, set()).add(values[1])
        known: dict[str, set[str]] = {table: self._stored_ids(table, ids[table]) for table in ids}
        fresh: list[Prepared] = []
        for event in events:
            seen = known[event[0]]
            if event[1][1] not in seen:
                seen.add(event[1][1])
                fresh.append(event)
        return fresh

    def _stored_ids(self, table: str, ids: set[str]) -> set[str]:
        marks = ", ".join([self._mark] * len(ids))
        query = f'SELECT id FROM "{table}" WHERE id IN ({marks})'  # noqa: S608 - our own names
        return {row[0] for row in self.conn.exec_driver_sql(query, tuple(ids))}

    def _session_addresses(self, events: list[Prepared]) -> dict[str, str]:
        """Sign-in address of each session, to copy to its accesses that have none (spec)."""
        ips = self.session_ips
        missing: set[str] = set()
        for table, values, _ in events:
            if table == "signins" and values[_S["outcome"]] == "success":
                if len(ips) >= _SESSION_MEMORY:
                    ips.clear()
                ips.setdefault(values[_S["session"]], values[_S["ip"]])
            elif table == "accesses" and values[_A["ip"]] is None:
                missing.add(values[_A["session"]])
        missing -= ips.keys()
        if missing:
            ips.update(self._stored_session_ips(missing))
        return ips

    def _stored_session_ips(self, sessions: set[str]) -> dict[str, str]:
        query = (
            select(t.signins.c.session, t.signins.c.ip)
            .where(t.signins.c.session.in_(sessions), t.signins.c.outcome == "success")
            .order_by(t.signins.c.seq.desc())
        )
        return {row[0]: row[1] for row in self.conn.execute(query)}


def _with(values: Values, index: int, value: Any) -> Values:
    return (*values[:index], value, *values[index + 1 :])


def _search_rows(values: Values, seq: int) -> list[Values]:
    """One row per customer a search listed, so queries by customer find the search."""
    moment = values[_A["time_us"]]
    return [
        (customer, moment, seq) for customer in dict.fromkeys(orjson.loads(values[_A["results"]]))
    ]
