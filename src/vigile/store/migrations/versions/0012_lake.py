"""The event lake's watermark per lake (vigile.lake): ``vigile lake export``.

Revision ID: 0012_lake
Revises: 0011_call_approvals
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_lake"
down_revision = "0011_call_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lake_exports",
        sa.Column("lake", sa.String, primary_key=True),
        sa.Column("leaf", sa.BigInteger, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lake_exports")
