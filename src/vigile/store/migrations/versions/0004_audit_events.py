"""What Vigile itself does and decides, recorded beside the activity (and in the ledger).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION vigile_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION vigile_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
            "BEGIN SELECT RAISE(ABORT, "
            f"'vigile: audit_events is append-only ({verb} refused)'); END"
        )


def downgrade() -> None:
    raise RuntimeError("an append-only table is never downgraded")
