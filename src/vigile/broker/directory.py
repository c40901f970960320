"""The broker's reads of the store beyond the repository: bounded customer search, one
object of a customer, and an agent's recent accesses (to seed velocity counters)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, func, or_, select

from vigile.model import Account, Agent, Contact, Customer, Subscription, Ticket, TicketEvent
from vigile.model.times import to_micros
from vigile.model.vocabulary import TicketStep
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect
from vigile.store.rows import from_row

__all__ = [
    "agent_of",
    "all_directory",
    "assigned_tickets",
    "find_object",
    "like_pattern",
    "search_customers",
    "suspension_of",
    "ticket_as_of",
]

_OBJECT_TABLES = {"contact": (Contact, t.contacts), "account": (Account, t.accounts)}
_OBJECT_TABLES_ALL = {**_OBJECT_TABLES, "subscription": (Subscription, t.subscriptions)}


def like_pattern(query: str) -> str:
    """A LIKE pattern matching ``query`` literally anywhere (``%`` and ``_`` escaped,
    so no query enumerates the directory by wildcard)."""
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_customers(store: Store, query: str, limit: int) -> list[tuple[str, str | None]]:
    """``(id, name)`` of at most ``limit`` customers whose name contains ``query``
    (case-insensitive) or whose id is ``query``, by name."""
    table = t.customers
    condition = or_(
        func.lower(table.c.name).like(like_pattern(query), escape="\\"), table.c.id == query
    )
    statement = select(table.c.id, table.c.name).where(condition).order_by(table.c.name, table.c.id)
    with connect(store.engine) as conn:
        return [(row.id, row.name) for row in conn.execute(statement.limit(limit))]


def find_object(store: Store, kind: str, object_id: str) -> Contact | Account | Subscription | None:
    """The contact, account or subscription ``object_id`` (any customer's)."""
    record_type, table = _OBJECT_TABLES_ALL[kind]
    with connect(store.engine) as conn:
        row = conn.execute(select(table).where(table.c.id == object_id)).mappings().first()
    return None if row is None else from_row(record_type, row)


def all_directory(store: Store) -> Iterator[Agent | Customer]:
    """Every agent and customer (the entities parsed once at start-up)."""
    with connect(store.engine) as conn:
        for row in conn.execute(select(t.agents)).mappings():
            yield from_row(Agent, row)
        for row in conn.execute(select(t.customers)).mappings():
            yield from_row(Customer, row)


# -- reads on a connection the caller holds (one checkout for all the facts) ---------


def agent_of(conn: Connection, agent_id: str) -> Agent | None:
    """The agent ``agent_id`` from the directory."""
    row = conn.execute(select(t.agents).where(t.agents.c.id == agent_id)).mappings().first()
    return None if row is None else from_row(Agent, row)


def suspension_of(conn: Connection, agent_id: str) -> str | None:
    """Why ``agent_id`` is suspended, or ``None``."""
    table = t.broker_suspensions
    query = select(table.c.reason).where(table.c.agent == agent_id)
    return conn.execute(query).scalar_one_or_none()


def ticket_as_of(conn: Connection, ticket_id: str, moment: datetime) -> Ticket | None:
    """The ticket as it stood at ``moment`` (as :meth:`vigile.store.Store.ticket_as_of`)."""
    table = t.ticket_events
    query = (
        select(table)
        .where(table.c.ticket == ticket_id, table.c.time_us <= to_micros(moment))
        .order_by(table.c.time_us, table.c.seq)
    )
    ticket: Ticket | None = None
    for row in conn.execute(query).mappings():
        step = from_row(TicketEvent, row)
        if step.event is TicketStep.OPENED and step.customer is not None:
            ticket = Ticket(
                id=step.ticket, customer=step.customer, category=step.category, opened_at=step.time
            )
        elif ticket is not None:
            ticket = ticket.fold(step)
    return ticket


def assigned_tickets(store: Store, agent_id: str, moment: datetime, limit: int) -> list[Ticket]:
    """The open tickets assigned to ``agent_id`` at ``moment`` (a later assignment to
    someone else takes a ticket away), oldest first, at most ``limit``."""
    table = t.ticket_events
    named = (
        select(table.c.ticket)
        .where(
            table.c.agent == agent_id,
            table.c.event == TicketStep.ASSIGNED.value,
            table.c.time_us <= to_micros(moment),
        )
        .distinct()
    )
    found: list[Ticket] = []
    with connect(store.engine) as conn:
        for ticket_id in conn.execute(named).scalars():
            ticket = ticket_as_of(conn, ticket_id, moment)
            if ticket is not None and ticket.is_open and ticket.assignee == agent_id:
                found.append(ticket)
    found.sort(key=lambda ticket: (ticket.opened_at, ticket.id))
    return found[:limit]
