"""The web console's local accounts.

Revision ID: 0008_console
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_console"
down_revision = "0001"
branch_labels = ("console",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_accounts",
        sa.Column("username", sa.String, primary_key=True),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("password", sa.String, nullable=False),
        sa.Column("totp_secret", sa.String),
        sa.Column("totp_last_step", sa.BigInteger),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("disabled_us", sa.BigInteger),
    )


def downgrade() -> None:
    op.drop_table("console_accounts")
