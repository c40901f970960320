"""Vendors' ids of Vigile's agents and customers: rows of ``identities``.

``(system, external_id)`` is unique: a vendor's id names one agent or one customer. An
import naming it again moves it (the newest directory file wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from vigile.store import tables as t

__all__ = ["IdentityRow", "read_identities", "upsert_identities"]

#: ``(system, external_id, kind, id)``: the vendor's id, and the agent or customer it names.
IdentityRow = tuple[str, str, str, str]


def upsert_identities(conn: Connection, rows: Sequence[IdentityRow]) -> None:
    """Store ``rows`` in the caller's transaction, replacing what the same vendor ids named."""
    if not rows:
        return
    table = t.identities
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = make(table)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.system, table.c.external_id],
            set_={"kind": statement.excluded.kind, "id": statement.excluded.id},
        ),
        [dict(zip(("system", "external_id", "kind", "id"), row, strict=True)) for row in rows],
    )


def read_identities(engine: Engine) -> Mapping[tuple[str, str], tuple[str, str]]:
    """Every vendor id: ``(system, external_id) -> (kind, id)``."""
    table = t.identities
    query = select(table.c.system, table.c.external_id, table.c.kind, table.c.id)
    with engine.connect() as conn:
        return {(s, e): (k, i) for s, e, k, i in conn.execute(query)}
