"""The support organisation's directory and its append-only events.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigile.store.migrations.append_only import refuse_changes

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
    refuse_changes(*_EVENT_TABLES)


def downgrade() -> None:
    raise RuntimeError("the initial schema of an append-only store is never downgraded")
