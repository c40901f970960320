"""Fixtures shared by the test suite: stores on SQLite and, when available, PostgreSQL.

PostgreSQL tests run when ``VIGILE_TEST_PG`` holds a server URL (``.ci/run`` starts one);
with ``VIGILE_REQUIRE_PG=1`` a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from vigile.settings import Settings
from vigile.store import Store

REPO = Path(__file__).resolve().parents[1]
SPEC_EXAMPLE = Path(__file__).parent / "data" / "spec-example.jsonl"


def _pg_admin_url() -> str | None:
    url = os.environ.get("VIGILE_TEST_PG")
    if not url and os.environ.get("VIGILE_REQUIRE_PG") == "1":
        pytest.fail("VIGILE_REQUIRE_PG=1 but VIGILE_TEST_PG is not set")
    return url or None


@contextmanager
def empty_database(engine: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database on ``engine`` (``sqlite`` or ``postgresql``), dropped
    afterwards; PostgreSQL tests skip without a server (fail with VIGILE_REQUIRE_PG=1)."""
    if engine == "sqlite":
        yield str(folder / "vigile.db")
        return
    admin = _pg_admin_url()
    if admin is None:
        pytest.skip("no PostgreSQL server (set VIGILE_TEST_PG)")
    name = f"vigile_test_{uuid.uuid4().hex[:12]}"
    server = create_engine(admin, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on each engine."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder: default paths (store, keys) land there."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("VIGILE_") and name not in ("VIGILE_TEST_PG", "VIGILE_REQUIRE_PG"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings of a fresh store on each engine, its ledger key in the test's folder."""
    return Settings(db=db_url, ledger_key=str(tmp_path / "keys" / "ledger.key"))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """A fresh, migrated store on each engine."""
    Path(settings.ledger_key).parent.mkdir(exist_ok=True)
    with Store.open(settings, create=True) as opened:
        yield opened
