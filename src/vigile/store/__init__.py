"""The operational store: SQLAlchemy Core tables, Alembic migrations, row writes, queries."""

from vigile.store.engine import open_engine, resolve_url
from vigile.store.repository import Event, Store

__all__ = ["Event", "Store", "open_engine", "resolve_url"]
