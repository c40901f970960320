"""The access ledger: the Merkle tree's entries and nodes, and signed checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigile.store.migrations.append_only import refuse_changes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("ledger_entries", "ledger_checkpoints")
_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("idx", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("hashes", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_ledger_checkpoints_size", "ledger_checkpoints", ["size"])
    refuse_changes(*_TABLES)


def downgrade() -> None:
    raise RuntimeError("an append-only ledger is never downgraded")
