"""Breach response: incidents, notifications, remediations, renames and retired usernames.

Revision ID: 0006_respond
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_respond"
down_revision = "0004"
branch_labels = ("respond",)
depends_on = None

_TABLES = (
    "retired_usernames",
    "account_renames",
    "contact_reverifications",
    "incident_remediations",
    "incident_notifications",
    "incidents",
)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("owner", sa.String),
        sa.Column("alert", sa.String),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("since_us", sa.BigInteger, nullable=False),
        sa.Column("until_us", sa.BigInteger, nullable=False),
        sa.Column("opened_us", sa.BigInteger, nullable=False),
        sa.Column("aware_us", sa.BigInteger, nullable=False),
        sa.Column("high_risk", sa.String),
    )
    op.create_table(
        "incident_notifications",
        sa.Column("incident", sa.String, primary_key=True),
        sa.Column("customer", sa.String, primary_key=True),
        sa.Column("language", sa.String, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("sent_us", sa.BigInteger),
    )
    op.create_table(
        "incident_remediations",
        sa.Column("incident", sa.String, primary_key=True),
        sa.Column("action", sa.String, primary_key=True),
        sa.Column("applied_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "contact_reverifications",
        sa.Column("contact", sa.String, primary_key=True),
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("incident", sa.String, nullable=False),
        sa.Column("marked_us", sa.BigInteger, nullable=False),
    )
    _renames_and_retired()


def _renames_and_retired() -> None:
    op.create_table(
        "account_renames",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account", sa.String, nullable=False),
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("old_username", sa.String, nullable=False),
        sa.Column("new_username", sa.String, nullable=False),
        sa.Column("old_email", sa.String),
        sa.Column("new_email", sa.String),
        sa.Column("incident", sa.String),
        sa.Column("time_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_account_renames_account", "account_renames", ["account"])
    op.create_table(
        "retired_usernames",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("username", sa.String, nullable=False),
        sa.Column("account", sa.String, nullable=False),
        sa.Column("customer", sa.String, nullable=False),
        sa.Column("incident", sa.String),
        sa.Column("retired_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_account_renames_account", table_name="account_renames")
    for name in _TABLES:
        op.drop_table(name)
