"""The store's read side: the directory, tickets as of a moment, and events by agent,
customer or session (each served by an index, fast at 10M events)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Engine, Select, Table, func, select

from vigile.model import (
    Access,
    Account,
    Agent,
    Contact,
    Customer,
    SignIn,
    Subscription,
    Ticket,
    TicketEvent,
    TicketStep,
)
from vigile.model.times import to_micros
from vigile.settings import Settings
from vigile.store import tables as t
from vigile.store.engine import connect, describe, open_engine
from vigile.store.rows import R, from_row

__all__ = ["Event", "Store"]

Event = TicketEvent | SignIn | Access
_MAX = 2**62


class Store:
    """Vigile's operational store on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings

    @classmethod
    def open(cls, settings: Settings | None = None, *, create: bool = False) -> Self:
        """The store named by the settings (``VIGILE_DB``), migrated to the current schema."""
        settings = settings or Settings.from_env()
        engine = open_engine(settings.db, create=create, lock_timeout=settings.db_lock_timeout)
        return cls(engine, settings)

    @property
    def location(self) -> str:
        """Where the store is, password hidden."""
        return describe(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- counts and directory --------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        tables = (t.agents, t.customers, t.contacts, t.accounts, t.subscriptions)
        with connect(self.engine) as conn:
            return {
                str(table.name): conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (*tables, *t.EVENT_TABLES)
            }

    def agent(self, agent_id: str) -> Agent | None:
        return self._one(Agent, t.agents, agent_id)

    def customer(self, customer_id: str) -> Customer | None:
        return self._one(Customer, t.customers, customer_id)

    def contacts_of(self, customer_id: str) -> list[Contact]:
        return self._of_customer(Contact, t.contacts, customer_id)

    def accounts_of(self, customer_id: str) -> list[Account]:
        return self._of_customer(Account, t.accounts, customer_id)

    def subscriptions_of(self, customer_id: str) -> list[Subscription]:
        return self._of_customer(Subscription, t.subscriptions, customer_id)

    def _one(self, kind: type[R], table: Table, key: str) -> R | None:
        with connect(self.engine) as conn:
            row = conn.execute(select(table).where(table.c.id == key)).mappings().first()
        return None if row is None else from_row(kind, row)

    def _of_customer(self, kind: type[R], table: Table, customer_id: str) -> list[R]:
        query = select(table).where(table.c.customer == customer_id).order_by(table.c.id)
        with connect(self.engine) as conn:
            return [from_row(kind, row) for row in conn.execute(query).mappings()]

    # -- tickets ---------------------------------------------------------------------

    def ticket_as_of(self, ticket_id: str, moment: datetime) -> Ticket | None:
        """The ticket as it stood at ``moment`` (steps after it are ignored)."""
        table = t.ticket_events
        query = (
            select(table)
            .where(table.c.ticket == ticket_id, table.c.time_us <= to_micros(moment))
            .order_by(table.c.time_us, table.c.seq)
        )
        with connect(self.engine) as conn:
            steps = [from_row(TicketEvent, r) for r in conn.execute(query).mappings()]
        return fold_ticket(steps)

    # -- events ----------------------------------------------------------------------

    def events_of_agent(self, agent_id: str, since: datetime, until: datetime) -> list[Event]:
        """Sign-ins, accesses and ticket steps of an agent, both ends inclusive."""
        window = (to_micros(since), to_micros(until))
        return self._events(
            _between(table, table.c.agent == agent_id, window)
            for table in (t.signins, t.accesses, t.ticket_events)
        )

    def events_of_customer(
        self, customer_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Event]:
        """Accesses and ticket steps concerning a customer, including the searches whose
        results listed it."""
        window = (to_micros(since) if since else -_MAX, to_micros(until) if until else _MAX)
        direct = [
            _between(table, table.c.customer == customer_id, window)
            for table in (t.accesses, t.ticket_events)
        ]
        shown = t.search_results
        listed = (
            select(shown.c.access_seq)
            .where(shown.c.customer == customer_id)
            .where(shown.c.time_us.between(*window))
        )
        searches = select(t.accesses).where(t.accesses.c.seq.in_(listed))
        return self._events([*direct, searches])

    def events_of_session(self, session: str) -> list[Event]:
        """Sign-ins and accesses of one session."""
        return self._events(
            select(table).where(table.c.session == session) for table in (t.signins, t.accesses)
        )

    def _events(self, queries: Iterable[Select[Any]]) -> list[Event]:
        kinds: dict[str, type[Event]] = {
            "signins": SignIn,
            "accesses": Access,
            "ticket_events": TicketEvent,
        }
        found: dict[int, Event] = {}
        with connect(self.engine) as conn:
            for query in queries:
                table = query.get_final_froms()[0]
                kind = kinds[getattr(table, "name", "")]
                for row in conn.execute(query).mappings():
                    found[row["seq"]] = from_row(kind, row)
        ordered = sorted(found.items(), key=lambda item: (item[1].time, item[0]))
        return [record for _, record in ordered]


def _between(table: Table, condition: Any, window: tuple[int, int]) -> Select[Any]:
    return select(table).where(condition, table.c.time_us.between(*window))


def fold_ticket(steps: list[TicketEvent]) -> Ticket | None:
    """A ticket's state after ``steps`` (in time order), or ``None`` before it opened."""
    ticket: Ticket | None = None
    for step in steps:
        if step.event is TicketStep.OPENED and step.customer is not None:
            ticket = Ticket(
                id=step.ticket,
                customer=step.customer,
                category=step.category,
                opened_at=step.time,
            )
        elif ticket is not None:
            ticket = ticket.fold(step)
    return ticket
