"""Scale-out: the leaves awaiting integration, and console sessions in the store.

``ledger_leaves``: the write path stores each event's leaf hash, and one integrator
(vigile.ledger.integrate) extends the tree from them, apart from the requests. Leaves
already in the tree are copied in (the first 32 bytes of their entry), so every stored
event has its row; their storage time is unknown (NULL).

``console_sessions``: every broker process serving the console knows every session
(they were in one process's memory).

Revision ID: 0013_scale_out
Revises: 0012_lake
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigile.store.migrations.append_only import refuse_changes

revision = "0013_scale_out"
down_revision = "0012_lake"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_leaves",
        sa.Column("idx", _SEQ, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.Column("time_us", sa.BigInteger),
    )
    first_32 = (
        "substring(hashes from 1 for 32)"
        if op.get_bind().dialect.name == "postgresql"
        else "substr(hashes, 1, 32)"
    )
    op.execute(
        f"INSERT INTO ledger_leaves (idx, hash, time_us) "  # noqa: S608 - constant text
        f"SELECT idx, {first_32}, NULL FROM ledger_entries"
    )
    refuse_changes("ledger_leaves")
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.LargeBinary, primary_key=True),
        sa.Column("username", sa.String, nullable=False),
        sa.Column("csrf", sa.String, nullable=False),
        sa.Column("token", sa.Text),
        sa.Column("started_us", sa.BigInteger, nullable=False),
        sa.Column("seen_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("an append-only ledger is never downgraded")
