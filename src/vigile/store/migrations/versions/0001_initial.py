"""The support organisation's directory and its append-only events.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# On SQLite only INTEGER PRIMARY KEY is the rowid: appends then write no separate key index.
_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_EVENT_TABLES = ("ticket_events", "signins", "accesses", "search_results")


def _directory(name: str, *columns: sa.Column[object]) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.String, primary_key=True),
        *columns,
        sa.Column("time_us", sa.BigInteger),
        sa.Column("extra", sa.Text),
    )


def _event(name: str, *columns: sa.Column[object]) -> None:
    op.create_table(
        name,
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String, nullable=False, unique=True),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        *columns,
        sa.Column("extra", sa.Text),
    )


def upgrade() -> None:
    _directory(
        "agents",
        sa.Column("name", sa.String),
        sa.Column("team", sa.String),
        sa.Column("employer", sa.String),
        sa.Column("country", sa.String),
        sa.Column("timezone", sa.String),
        sa.Column("shift", sa.Text),
        sa.Column("tier", sa.Integer),
    )
    op.create_index("ix_agents_team", "agents", ["team"])
    _directory(
        "customers",
        sa.Column("name", sa.String),
        sa.Column("tier", sa.String),
        sa.Column("country", sa.String),
    )
    _directory(
        "contacts",
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("role", sa.String),
        sa.Column("name", sa.String),
        sa.Column("email", sa.String),
        sa.Column("phone", sa.String),
    )
    op.create_index("ix_contacts_customer", "contacts", ["customer"])
    _directory(
        "accounts",
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("username", sa.String, nullable=False),
        sa.Column("email", sa.String),
        sa.Column("status", sa.String),
    )
    op.create_index("ix_accounts_customer", "accounts", ["customer"])
    _directory(
        "subscriptions",
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("service", sa.String, nullable=False),
        sa.Column("plan", sa.String),
        sa.Column("seats", sa.Integer),
        sa.Column("monthly_amount", sa.Float),
        sa.Column("currency", sa.String),
    )
    op.create_index("ix_subscriptions_customer", "subscriptions", ["customer"])

    _event(
        "ticket_events",
        sa.Column("ticket", sa.String, nullable=False),
        sa.Column("event", sa.String, nullable=False),
        sa.Column("customer", sa.String),
        sa.Column("agent", sa.String),
        sa.Column("category", sa.String),
    )
    op.create_index("ix_ticket_events_ticket_time", "ticket_events", ["ticket", "time_us"])
    op.create_index("ix_ticket_events_customer_time", "ticket_events", ["customer", "time_us"])
    op.create_index("ix_ticket_events_agent_time", "ticket_events", ["agent", "time_us"])
    _event(
        "signins",
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("session", sa.String, nullable=False),
        sa.Column("outcome", sa.String, nullable=False),
        sa.Column("ip", sa.String, nullable=False),
        sa.Column("country", sa.String),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("device", sa.String),
        sa.Column("user_agent", sa.String),
        sa.Column("mfa", sa.String),
    )
    op.create_index("ix_signins_agent_time", "signins", ["agent", "time_us"])
    op.create_index("ix_signins_session", "signins", ["session", "time_us"])
    _event(
        "accesses",
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("session", sa.String, nullable=False),
        sa.Column("ip", sa.String),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("customer", sa.String),
        sa.Column("object", sa.String),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("masked_fields", sa.Text, nullable=False),
        sa.Column("ticket", sa.String),
        sa.Column("reason", sa.String),
        sa.Column("query", sa.String),
        sa.Column("results", sa.Text),
        sa.Column("outcome", sa.String, nullable=False),
        sa.Column("deny_reason", sa.String),
    )
    op.create_index("ix_accesses_agent_time", "accesses", ["agent", "time_us"])
    op.create_index("ix_accesses_customer_time", "accesses", ["customer", "time_us"])
    op.create_index("ix_accesses_session", "accesses", ["session", "time_us"])
    op.create_table(
        "search_results",
        sa.Column("customer", sa.String, primary_key=True),
        sa.Column("time_us", sa.BigInteger, primary_key=True),
        sa.Column("access_seq", sa.BigInteger, primary_key=True),
    )
    _refuse_changes(_EVENT_TABLES)


def _refuse_changes(tables: tuple[str, ...]) -> None:
    """Make the database itself refuse UPDATE and DELETE on the append-only tables."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION vigile_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'vigile: % is append-only (% refused)', "
            "TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION vigile_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION vigile_append_only()"
            )
        return
    for table in tables:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'vigile: {table} is append-only ({verb} refused)'); END"
            )


def downgrade() -> None:
    raise RuntimeError("the initial schema of an append-only store is never downgraded")
