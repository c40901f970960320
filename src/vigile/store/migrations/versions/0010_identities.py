"""Vendors' ids of agents and customers (vigile.sources): ``vigile directory import``.

Revision ID: 0010_identities
Revises: 0009_broker_not_before
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_identities"
down_revision = "0009_broker_not_before"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("system", sa.String, primary_key=True),
        sa.Column("external_id", sa.String, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("id", sa.String, nullable=False),
    )
    op.create_index("ix_identities_kind_id", "identities", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_identities_kind_id", table_name="identities")
    op.drop_table("identities")
