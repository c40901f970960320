"""What Vigile itself does and decides, recorded beside the activity (and in the ledger).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigile.store.migrations.append_only import refuse_changes

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String, nullable=False, unique=True),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("subject", sa.String),
        sa.Column("customer", sa.String),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_events_subject_time", "audit_events", ["subject", "time_us"])
    op.create_index("ix_audit_events_customer_time", "audit_events", ["customer", "time_us"])
    refuse_changes("audit_events")


def downgrade() -> None:
    raise RuntimeError("an append-only table is never downgraded")
