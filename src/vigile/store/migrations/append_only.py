"""Make the database itself refuse UPDATE and DELETE (and TRUNCATE) on a table.

Used by the migrations of every append-only table: events, the ledger, audit records.
The triggers stop mistakes and every account but the database owner's; what the owner
could still do is what the ledger's verification exists to find.
"""

from __future__ import annotations

from alembic import op

__all__ = ["refuse_changes"]

_POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION vigile_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'vigile: % is append-only (% refused)', "
    "TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$"
)


def refuse_changes(*tables: str) -> None:
    """Install the refusing triggers on ``tables`` for the current dialect."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION vigile_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION vigile_append_only()"
            )
        return
    for table in tables:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'vigile: {table} is append-only ({verb} refused)'); END"
            )
