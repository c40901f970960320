"""The questions every later part asks are answered from an index, never a table scan.

SQLite's query plan is checked directly (on a small store the plan is the same as at
10M events: the planner picks indexes from the schema); the timings at a million events
are in benchmarks/bench_ingest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from vigile.settings import Settings
from vigile.store import Store

QUESTIONS = [
    (
        "events of agent A between T1 and T2",
        "SELECT * FROM accesses WHERE agent = 'a' AND time_us BETWEEN 1 AND 2",
        "ix_accesses_agent_time",
    ),
    (
        "sign-ins of agent A between T1 and T2",
        "SELECT * FROM signins WHERE agent = 'a' AND time_us BETWEEN 1 AND 2",
        "ix_signins_agent_time",
    ),
    (
        "events touching customer C",
        "SELECT * FROM accesses WHERE customer = 'c' ORDER BY time_us",
        "ix_accesses_customer_time",
    ),
    (
        "searches that listed customer C",
        "SELECT access_seq FROM search_results WHERE customer = 'c'",
        "sqlite_autoindex_search_results_1",
    ),
    (
        "events of session S",
        "SELECT * FROM accesses WHERE session = 's'",
        "ix_accesses_session",
    ),
    (
        "ticket steps of a ticket up to a moment",
        "SELECT * FROM ticket_events WHERE ticket = 't' AND time_us <= 5",
        "ix_ticket_events_ticket_time",
    ),
]


@pytest.mark.parametrize(("question", "sql", "index"), QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_question_uses_its_index(tmp_path: Path, question: str, sql: str, index: str) -> None:
    with (
        Store.open(Settings(db=str(tmp_path / "plan.db")), create=True) as store,
        store.engine.connect() as conn,
    ):
        plan = " ".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert f"INDEX {index}" in plan, f"{question}: {plan}"
