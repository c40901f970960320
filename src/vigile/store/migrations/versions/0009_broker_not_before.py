"""Per agent, the instant before which its tokens are refused (containment).

Revision ID: 0009_broker_not_before
Revises: 0007_broker
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_broker_not_before"
down_revision = "0007_broker"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broker_not_before",
        sa.Column("agent", sa.String, primary_key=True),
        sa.Column("since_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("broker_not_before")
