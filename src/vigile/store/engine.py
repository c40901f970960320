"""Open the store named by ``VIGILE_DB``: SQLite by default, PostgreSQL by URL.

Library errors are translated here into :mod:`vigile.errors` with one clear message
(passwords hidden) so no command shows a traceback for a missing file, a locked database
or an unreachable server.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from vigile.errors import ConfigError, StoreError, StoreLocked, StoreNotFound

__all__ = [
    "connect",
    "describe",
    "integration_transaction",
    "integrator_role",
    "open_engine",
    "resolve_url",
    "translate_errors",
    "write_transaction",
]

_MIGRATIONS = Path(__file__).parent / "migrations"


def resolve_url(target: str) -> URL:
    """The SQLAlchemy URL of ``VIGILE_DB``: a URL as is, a plain path as an SQLite file."""
    if "://" not in target:
        return URL.create("sqlite+pysqlite", database=str(Path(target).expanduser().resolve()))
    try:
        url = make_url(target)
    except ArgumentError as exc:
        raise ConfigError(f"VIGILE_DB: not a database URL: {target!r}") from exc
    if url.drivername == "sqlite":
        url = url.set(drivername="sqlite+pysqlite")
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def describe(url: URL) -> str:
    """The URL for messages, password hidden."""
    return url.render_as_string(hide_password=True)


def open_engine(target: str, *, create: bool, lock_timeout: float = 5.0) -> Engine:
    """An engine on the store at ``target``, migrated to the current schema.

    With ``create`` a missing SQLite file is created (its folder must exist); without it a
    missing store is :class:`StoreNotFound`. Either way the schema is brought up to date.
    """
    url = resolve_url(target)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(url, create=create)
        engine = _sqlite_engine(url, lock_timeout)
    else:
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except (NoSuchModuleError, ArgumentError) as exc:
            raise ConfigError(f"VIGILE_DB: unsupported database {url.drivername!r}") from exc
    with translate_errors(url), engine.connect() as conn:
        _migrate(conn, create=create, url=url)
        conn.commit()
    return engine


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """A connection whose database errors come out as :class:`StoreError`."""
    with translate_errors(engine.url), engine.connect() as conn:
        yield conn


_WRITER = "vigile_writer"
_SEQUENCER_LOCK = 0x76696769  # "vigi": the PostgreSQL advisory lock of event writers


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction of a writer of events: one at a time, so ``seq`` and the ledger are
    sequenced by exactly one writer (SQLite: the write lock taken at BEGIN; PostgreSQL:
    a transaction-scoped advisory lock). Errors come out as :class:`StoreError`."""
    with (
        translate_errors(engine.url),
        engine.connect().execution_options(**{_WRITER: True}) as conn,
        conn.begin(),
    ):
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SEQUENCER_LOCK})")
        yield conn


_INTEGRATION_LOCK = 0x76696765  # "vige": the PostgreSQL advisory lock of one integration


@contextmanager
def integration_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction of the ledger's integrator: one at a time, so two integrators never
    extend the tree from the same size (SQLite: the write lock taken at BEGIN; PostgreSQL:
    a transaction-scoped advisory lock of its own, so writers of events go on meanwhile).
    Errors come out as :class:`StoreError`."""
    with (
        translate_errors(engine.url),
        engine.connect().execution_options(**{_WRITER: True}) as conn,
        conn.begin(),
    ):
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_INTEGRATION_LOCK})")
        yield conn


_INTEGRATOR_ROLE = 0x76696769 + 1  # held for its whole life by the running integrator


@contextmanager
def integrator_role(
    engine: Engine, *, on_wait: Callable[[str], None], again: Callable[[], bool]
) -> Iterator[Callable[[], bool] | None]:
    """Hold the integrator's role for the ``with`` block: one running integrator per
    store, the others standing by until it stops (PostgreSQL: a session advisory lock
    on a connection kept open, released by the server when the process dies; SQLite: an
    exclusive ``flock`` on ``<store>.integrator`` beside the file, released likewise).
    While another holds it, ``on_wait(why)`` is called once, and ``again()`` between
    tries: it waits a moment and says whether to try again (False: stop; the block then
    gets ``None``, no role). Yields a check that the role is still held (False: the
    connection holding it was lost; stop integrating)."""
    if engine.dialect.name == "postgresql":
        with translate_errors(engine.url), engine.connect() as conn:
            if not _take_role(conn, on_wait, again):
                yield None
                return

            def held() -> bool:
                try:
                    conn.exec_driver_sql("SELECT 1").scalar()
                    conn.commit()
                except (DBAPIError, SQLAlchemyError):
                    return False
                return True

            try:
                yield held
            finally:
                with suppress(DBAPIError, SQLAlchemyError):
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_INTEGRATOR_ROLE})")
                    conn.commit()
        return
    database = engine.url.database or ""
    path = Path(database + ".integrator") if database not in ("", ":memory:") else None
    if path is None:
        yield lambda: True
        return
    with path.open("a") as handle:
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    on_wait(f"another process holds {path}")
                    told = True
                if not again():
                    yield None
                    return
        try:
            yield lambda: True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _take_role(conn: Connection, on_wait: Callable[[str], None], again: Callable[[], bool]) -> bool:
    told = False
    while True:
        taken = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_INTEGRATOR_ROLE})").scalar()
        conn.commit()
        if taken:
            return True
        if not told:
            on_wait(_role_holder(conn))
            conn.commit()
            told = True
        if not again():
            return False


def _role_holder(conn: Connection) -> str:
    """Who holds the integrator's role on PostgreSQL, as far as the server says."""
    row = conn.exec_driver_sql(
        "SELECT a.pid, a.client_addr, a.application_name FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
        "AND l.objid = %s AND l.granted LIMIT 1",
        (_INTEGRATOR_ROLE,),
    ).first()
    if row is None:
        return "another integrator holds the lock"
    where = f" from {row[1]}" if row[1] else ""
    return f"another integrator holds the lock (server process {row[0]}{where})"


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn database errors into Vigile's, naming the store."""
    try:
        yield
    except DBAPIError as exc:
        raise _translated(url, exc) from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"{describe(url)}: {exc}") from exc


def _translated(url: URL, exc: DBAPIError) -> StoreError:
    origin = exc.orig
    text = str(origin).strip().splitlines()[0] if origin is not None else str(exc)
    if isinstance(origin, sqlite3.OperationalError) and "locked" in text:
        return StoreLocked(f"{describe(url)}: the store is locked by another process ({text})")
    if exc.connection_invalidated or "connect" in text.lower():
        return StoreError(f"{describe(url)}: cannot connect: {text}")
    return StoreError(f"{describe(url)}: {text}")


def _check_sqlite_file(url: URL, *, create: bool) -> None:
    database = url.database
    if not database or database == ":memory:":
        return
    path = Path(database)
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a Vigile store")
    if not path.parent.is_dir():
        raise StoreNotFound(f"{path}: folder {path.parent} does not exist")
    if not create and not path.exists():
        raise StoreNotFound(
            f"{path}: no Vigile store here (set VIGILE_DB, or create one with `vigile init`)"
        )


def _sqlite_engine(url: URL, lock_timeout: float) -> Engine:
    engine = create_engine(url, connect_args={"timeout": lock_timeout})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, and
        # make commits durable: a commit that returned survives a crash.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        # Index pages of a large store must stay in memory while appending (256 MiB).
        cursor.execute("PRAGMA cache_size=-262144")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes the write lock up front: two deferred writers that both read
        # first would otherwise deadlock on the upgrade, and one would fail at once.
        writes = conn.get_execution_options().get(_WRITER, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _alembic_config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _migrate(conn: Connection, *, create: bool, url: URL) -> None:
    """Bring the schema to every head: each domain keeps its tables on its own branch of
    migrations (store and ledger, then transparency, broker, detection, response)."""
    config = _alembic_config(conn)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    current = set(MigrationContext.configure(conn).get_current_heads())
    if current == heads:
        return
    if not current and not create and _has_tables(conn):
        raise StoreError(f"{describe(url)}: this database is not a Vigile store")
    command.upgrade(config, "heads")


def _has_tables(conn: Connection) -> bool:
    return bool(inspect(conn).get_table_names())
