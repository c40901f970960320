"""Opening the store: URLs, schema, and one clear error for every way it can fail."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.conftest import SPEC_EXAMPLE
from vigile.errors import ConfigError, StoreError, StoreLocked, StoreNotFound
from vigile.ingest import ingest_file
from vigile.settings import Settings
from vigile.store import Store, migrations, resolve_url
from vigile.store.tables import metadata


def test_migrations_create_exactly_the_declared_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


@pytest.mark.parametrize(
    ("target", "driver", "database"),
    [
        ("store.db", "sqlite+pysqlite", "{cwd}/store.db"),
        ("sqlite:////tmp/x.db", "sqlite+pysqlite", "/tmp/x.db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg", "db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg", "db"),
    ],
)
def test_vigile_db_is_a_url_or_a_path(target: str, driver: str, database: str) -> None:
    url = resolve_url(target)
    assert (url.drivername, url.database) == (driver, database.format(cwd=Path.cwd()))


def test_settings_read_the_environment() -> None:
    settings = Settings.from_env({"VIGILE_DB": "x.db", "VIGILE_DB_LOCK_TIMEOUT": "0.5"})
    assert (settings.db, settings.db_lock_timeout) == ("x.db", 0.5)
    assert Settings.from_env({}).db == "vigile.db"
    with pytest.raises(ConfigError, match="VIGILE_INGEST_BATCH: expected a number"):
        Settings.from_env({"VIGILE_INGEST_BATCH": "lots"})
    with pytest.raises(ConfigError, match="VIGILE_INGEST_BATCH: at most 30,000"):
        Settings.from_env({"VIGILE_INGEST_BATCH": "100000"})
    with pytest.raises(ConfigError, match="VIGILE_CHECKPOINT_EVERY: must be at least 1"):
        Settings.from_env({"VIGILE_CHECKPOINT_EVERY": "0"})
    # uvicorn would take a misspelt proxy as a name that never matches, silently.
    with pytest.raises(ConfigError, match=r"VIGILE_SERVE_TRUSTED_PROXIES: '10\.0\.0\.1/8' is not"):
        Settings.from_env({"VIGILE_SERVE_TRUSTED_PROXIES": "127.0.0.1,10.0.0.1/8"})
    with pytest.raises(ConfigError, match=r"VIGILE_SERVE_TRUSTED_PROXIES: 'proxy\.local'"):
        Settings.from_env({"VIGILE_SERVE_TRUSTED_PROXIES": "proxy.local"})
    with pytest.raises(ConfigError, match="VIGILE_SERVE_BODY_BYTES: must be at least 1"):
        Settings.from_env({"VIGILE_SERVE_BODY_BYTES": "0"})


def test_missing_store_is_not_created_by_readers(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound, match="no Vigile store here"):
        Store.open(Settings(db=str(tmp_path / "none.db")))
    assert not (tmp_path / "none.db").exists()


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound, match="does not exist"):
        Store.open(Settings(db=str(tmp_path / "no" / "where.db")), create=True)


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stuff (x)")
    with pytest.raises(StoreError, match="not a Vigile store"):
        Store.open(Settings(db=str(path)))


def test_unreachable_postgres_is_one_clear_error() -> None:
    url = "postgresql+psycopg://vigile:secret@127.0.0.1:1/vigile"
    with pytest.raises(StoreError, match="cannot connect") as caught:
        Store.open(Settings(db=url), create=True)
    assert "secret" not in str(caught.value)
    assert "***" in str(caught.value)


def test_locked_store_is_reported_and_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    Store.open(Settings(db=str(path)), create=True).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with (
            Store.open(Settings(db=str(path), db_lock_timeout=0.2)) as store,
            pytest.raises(StoreLocked, match="locked by another process"),
        ):
            ingest_file(store, SPEC_EXAMPLE)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with Store.open(Settings(db=str(path))) as store:
        assert set(store.counts().values()) == {0}


def test_schema_is_at_every_head(store: Store) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with store.engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == heads
