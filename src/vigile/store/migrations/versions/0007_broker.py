"""The access broker's state: grants, sessions, suspensions (mutable; every change is
also an audit event in the ledger).

Revision ID: 0007_broker
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_broker"
down_revision = "0004"
branch_labels = ("broker",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broker_grants",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("classes", sa.Text, nullable=False),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("ticket", sa.String),
        sa.Column("duration_s", sa.Integer, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("lockbox", sa.Integer, nullable=False),
        sa.Column("customer_approved", sa.Integer, nullable=False),
        sa.Column("requested_us", sa.BigInteger, nullable=False),
        sa.Column("decided_us", sa.BigInteger),
        sa.Column("decided_by", sa.String),
        sa.Column("starts_us", sa.BigInteger),
        sa.Column("expires_us", sa.BigInteger),
        sa.Column("ended_us", sa.BigInteger),
        sa.Column("ended_by", sa.String),
    )
    op.create_index("ix_broker_grants_agent_customer", "broker_grants", ["agent", "customer"])
    op.create_index("ix_broker_grants_status", "broker_grants", ["status"])
    op.create_table(
        "broker_sessions",
        sa.Column("session", sa.String, primary_key=True),
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("opened_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_us", sa.BigInteger),
    )
    op.create_index("ix_broker_sessions_agent", "broker_sessions", ["agent"])
    op.create_table(
        "broker_suspensions",
        sa.Column("agent", sa.String, primary_key=True),
        sa.Column("since_us", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("reason", sa.String, nullable=False),
    )


def downgrade() -> None:
    for table in ("broker_suspensions", "broker_sessions", "broker_grants"):
        op.drop_table(table)
