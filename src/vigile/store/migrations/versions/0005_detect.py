"""Detection: alerts (mutable status), their history, watermarks, containment requests.

Revision ID: 0005_detect
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vigile.store.migrations.append_only import refuse_changes

revision = "0005_detect"
down_revision = "0003"
branch_labels = ("detect",)
depends_on = None

# Alerts change status as analysts work them; what changed, when and by whom is kept in
# the append-only history, as are the containment requests.
_APPEND_ONLY = ("detect_alert_history", "detect_containment")


def upgrade() -> None:
    op.create_table(
        "detect_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("severity", sa.String, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("first_us", sa.BigInteger, nullable=False),
        sa.Column("last_us", sa.BigInteger, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_detect_alerts_agent_status", "detect_alerts", ["agent", "status"])
    op.create_table(
        "detect_alert_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("severity", sa.String, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_detect_alert_history_alert", "detect_alert_history", ["alert_id"])
    op.create_table(
        "detect_watermarks",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "detect_containment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("alert_id", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("outcome", sa.String, nullable=False),
    )
    refuse_changes(*_APPEND_ONLY)


def downgrade() -> None:
    raise RuntimeError("alert history and containment requests are never downgraded")
