"""The store's write primitives: rows in bulk, directory upserts, numbering, and the
SQLite index rebuild of a large load. They know rows and tables only; what an event
means to the ledger is :mod:`vigile.record`'s business.

Rows travel as tuples in column order and go to the driver: SQLAlchemy's per-row
processing would cost more than the inserts, and these values need no conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from vigile.store import tables as t

__all__ = ["Upsert", "Values", "bulk_insert", "deferred_indexes", "next_seq", "upsert_for"]

Values = tuple[Any, ...]


def bulk_insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Values]
) -> None:
    """Insert rows (tuples in ``columns`` order) straight to the driver, in the
    connection's transaction: COPY on PostgreSQL, executemany on SQLite. SQLAlchemy's
    per-row processing, or psycopg's one statement per row, would cost more than the
    inserts themselves, and these values need no conversion."""
    if not rows:
        return
    names = ", ".join(f'"{column}"' for column in columns)
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        statement = f'COPY "{table}" ({names}) FROM STDIN'
        dbapi_error = conn.dialect.loaded_dbapi.Error
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except dbapi_error as exc:
            # The driver's own error, raised past SQLAlchemy: made the one SQLAlchemy
            # raises, so that the store's boundary (translate_errors) names it as any other.
            raise DBAPIError.instance(statement, None, exc, dbapi_error) from exc
        return
    marks = ", ".join(["?"] * len(columns))
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - our own names
    conn.exec_driver_sql(sql, list(rows))


def next_seq(conn: Connection) -> int:
    """The ``seq`` the next recorded event gets: 0 in an empty store."""
    highest = -1
    for table in t.EVENT_TABLES:
        value = conn.execute(select(func.max(table.c.seq))).scalar()
        highest = max(highest, -1 if value is None else value)
    return highest + 1


#: ``upsert(conn, table, rows)``: rows as dicts, keyed by ``id``.
Upsert = Callable[[Connection, Table, list[dict[str, Any]]], None]


def upsert_for(dialect: str) -> Upsert:
    """INSERT ... ON CONFLICT (id) DO UPDATE, keeping a newer stored version."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        statement = make(table)
        excluded = statement.excluded
        newer_or_undated = (
            excluded.time_us.is_(None)
            | table.c.time_us.is_(None)
            | (excluded.time_us >= table.c.time_us)
        )
        columns = {c.name: excluded[c.name] for c in table.columns if c.name != "id"}
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.id], set_=columns, where=newer_or_undated
            ),
            rows,
        )

    return upsert


@contextmanager
def deferred_indexes(conn: Connection, expected: int, stored: int) -> Iterator[None]:
    """On SQLite, build the event tables' secondary indexes after a large load.

    Inserting into five B-trees per row costs more than sorting once at the end when
    the load holds more events (``expected``) than the store (``stored``); a failure
    rolls the DDL back too (DDL is transactional on SQLite).
    """
    if conn.dialect.name != "sqlite" or expected <= stored:
        yield
        return
    indexes = [index for table in t.EVENT_TABLES for index in table.indexes]
    for index in indexes:
        index.drop(conn)
    yield
    for index in indexes:
        index.create(conn)
