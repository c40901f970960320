"""Approvals of one exact call of an AI agent by its supervising human (issue 22).

Revision ID: 0011_call_approvals
Revises: 0010_identities
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_call_approvals"
down_revision = "0010_identities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broker_call_approvals",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("tool", sa.String, nullable=False),
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("digest", sa.String, nullable=False),
        sa.Column("policy_version", sa.String, nullable=False),
        sa.Column("supervisor", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("requested_us", sa.BigInteger, nullable=False),
        sa.Column("decided_us", sa.BigInteger),
        sa.Column("decided_by", sa.String),
        sa.Column("expires_us", sa.BigInteger),
        sa.Column("used_us", sa.BigInteger),
    )
    op.create_index(
        "ix_broker_call_approvals_call",
        "broker_call_approvals",
        ["agent", "tool", "digest"],
    )


def downgrade() -> None:
    op.drop_index("ix_broker_call_approvals_call", "broker_call_approvals")
    op.drop_table("broker_call_approvals")
