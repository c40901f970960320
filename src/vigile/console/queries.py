"""What the console reads from the store directly: ticket metadata only (ids, customer
ids, categories, states), never customer data, which goes through the broker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from vigile.model import Ticket, TicketEvent
from vigile.model.times import to_micros
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect
from vigile.store.repository import fold_ticket
from vigile.store.rows import from_row

__all__ = ["open_tickets"]


def open_tickets(
    store: Store, agent: str, now: datetime, *, customer: str | None = None, limit: int = 50
) -> list[Ticket]:
    """The open tickets assigned to ``agent`` as of ``now`` (newest first), optionally of
    one customer: the agent's queue, and the justifications it may pick from."""
    table = t.ticket_events
    mine = (
        select(table.c.ticket)
        .where(table.c.agent == agent, table.c.event == "assigned")
        .group_by(table.c.ticket)
        .order_by(func.max(table.c.time_us).desc())  # latest assignments first
        .limit(limit * 4)
    )
    with connect(store.engine) as conn:
        ids = [row.ticket for row in conn.execute(mine)]
        steps = select(table).where(table.c.ticket.in_(ids), table.c.time_us <= to_micros(now))
        ordered = steps.order_by(table.c.ticket, table.c.time_us, table.c.seq)
        by_ticket: dict[str, list[TicketEvent]] = {}
        for row in conn.execute(ordered).mappings():
            by_ticket.setdefault(row["ticket"], []).append(from_row(TicketEvent, row))
    tickets = [fold_ticket(found) for found in by_ticket.values()]  # as of now, in one read
    queue = [
        ticket
        for ticket in tickets
        if ticket is not None and ticket.is_open and ticket.assignee == agent
    ]
    if customer is not None:
        queue = [ticket for ticket in queue if ticket.customer == customer]
    queue.sort(key=lambda ticket: ticket.opened_at, reverse=True)
    return queue[:limit]
