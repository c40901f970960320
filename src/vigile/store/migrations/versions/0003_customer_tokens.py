"""Customers' bearer tokens for the transparency API (only their SHA-256 is stored).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("revoked_us", sa.BigInteger),
    )
    op.create_index("ix_customer_tokens_customer", "customer_tokens", ["customer"])


def downgrade() -> None:
    op.drop_index("ix_customer_tokens_customer", table_name="customer_tokens")
    op.drop_table("customer_tokens")
