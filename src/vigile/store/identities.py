"""Vendors' ids of Vigile's agents and customers: rows of ``identities``.

``(system, external_id)`` is unique: a vendor's id names one agent or one customer. An
import naming it again moves it (the newest directory file wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, Engine, and_, select
from sqlalchemy.dialects import postgresql, sqlite

from vigile.store import tables as t

__all__ = [
    "IdentityRow",
    "read_identities",
    "read_owners",
    "read_ticket_customers",
    "upsert_identities",
]

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


def read_owners(engine: Engine) -> Mapping[tuple[str, str], str]:
    """The customer of every contact and account a vendor id names:
    ``(kind, id) -> customer``."""
    ids = t.identities
    found: dict[tuple[str, str], str] = {}
    with engine.connect() as conn:
        for kind, table in (("contact", t.contacts), ("account", t.accounts)):
            query = (
                select(table.c.id, table.c.customer)
                .select_from(table.join(ids, and_(ids.c.kind == kind, ids.c.id == table.c.id)))
                .distinct()
            )
            found.update(((kind, i), c) for i, c in conn.execute(query))
    return found


def read_ticket_customers(engine: Engine, prefix: str = "") -> Mapping[str, str]:
    """The customer of every ticket opened with one (``ticket -> customer``), of the
    tickets whose id starts with ``prefix``."""
    table = t.ticket_events
    query = select(table.c.ticket, table.c.customer).where(
        table.c.event == "opened", table.c.customer.is_not(None)
    )
    if prefix:
        query = query.where(table.c.ticket.startswith(prefix, autoescape=True))
    with engine.connect() as conn:
        return {str(ticket): str(customer) for ticket, customer in conn.execute(query)}
