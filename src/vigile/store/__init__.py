"""The operational store: SQLAlchemy Core tables, Alembic migrations, ingest, queries."""

from vigile.store.engine import open_engine, resolve_url
from vigile.store.ingest import IngestSummary, ingest_file
from vigile.store.repository import Event, Store

__all__ = ["Event", "IngestSummary", "Store", "ingest_file", "open_engine", "resolve_url"]
