"""Features of each agent per hour and per day, computed by DuckDB from SQL files.

:class:`FeatureEngine` holds one in-process DuckDB database: the directory (agents, teams,
customer tiers, shifts), the state folded from every event seen so far (``remember.sql``:
tickets, assignments, first touches, known addresses, countries and devices, sessions), and
a buffer of recent events. Batch detection absorbs all events at once; streaming absorbs
each new batch after the watermark and recomputes only the windows those events touch.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from vigile.detect.errors import DetectError
from vigile.detect.rules import Rule, rule_hits
from vigile.detect.source import (
    ACCESS_SCHEMA,
    DAY_US,
    HOUR_US,
    SIGNIN_SCHEMA,
    TICKET_SCHEMA,
    EventBatch,
    shift_table,
)

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "FEATURE_COLUMNS",
    "EngineLimits",
    "FeatureEngine",
    "FeatureParams",
    "distinct_customers",
    "evidence_ids",
    "sql_text",
]

#: Numeric features (every column of a feature row but its keys, times and names).
FEATURE_COLUMNS: tuple[str, ...] = (
    "accesses", "customers", "unjustified_customers", "no_ticket_customers",
    "not_assigned_customers", "other_ticket_customers", "closed_ticket_customers",
    "unjustified_reveals", "sensitive_reveals", "sensitive_customers", "sensitive_share",
    "sensitive_unjustified_customers", "new_unjustified_customers", "new_team_customers",
    "off_shift_accesses", "off_shift_customers", "denied", "denied_ratio", "searches",
    "search_results", "search_initials", "search_queries", "sequential_requests", "exports",
    "break_glass", "sessions", "concurrent_sessions", "addresses", "address_mismatches",
    "signins", "failed_signins", "new_addresses", "new_countries", "new_devices",
    "impossible_travel",
)  # fmt: skip


def sql_text(name: str) -> str:
    """A feature SQL file shipped in ``vigile/detect/sql``."""
    return resources.files("vigile.detect").joinpath(f"sql/{name}.sql").read_text("utf-8")


def _statements(name: str) -> list[str]:
    """A file's statements: each ends with a ``;`` that ends its line (comments may hold
    semicolons)."""
    return [s.strip() for s in re.split(r";[ \t]*$", sql_text(name), flags=re.M) if s.strip()]


_SQL = {name: sql_text(name) for name in ("features", "evidence", "candidates", "reasons")}
_JUDGED = _statements("judged")


def _used(params: dict[str, int], statement: str) -> dict[str, int]:
    """The parameters ``statement`` names (DuckDB refuses any other)."""
    return {name: value for name, value in params.items() if f"${name}" in statement}


_CUSTOMER_DAYS = _statements("customer_days")
_FORGET = _statements("forget")
_NEVER = 2**62  # an open end: no window starts after it
_PRUNE_SIGNINS = """
CREATE OR REPLACE TABLE signins AS
SELECT * FROM signins WHERE time_us >= $h
UNION ALL
SELECT s.* FROM signins s
JOIN (
  SELECT agent, max(time_us) AS last_us FROM signins
  WHERE outcome = 'success' AND time_us < $h GROUP BY agent
) m ON m.agent = s.agent AND m.last_us = s.time_us
WHERE s.outcome = 'success'
"""
_REMEMBER = _statements("remember")


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureParams:
    """Knobs of the feature SQL.

    ``history_us``: how long an agent must have been seen before anything of theirs counts
    as new (first days of a new hire are all new). ``grace_us``: slack around ticket steps
    (an agent opens the customer seconds before the assignment is recorded).
    """

    history_us: int = 7 * DAY_US
    grace_us: int = 15 * 60 * 1_000_000
    buffer_us: int = 2 * DAY_US


#: DuckDB's memory unless configured: beyond it the state spills to disk, so a long history
#: costs disk rather than memory (docs/benchmarks.md, "detection batch memory").
DEFAULT_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True, kw_only=True, slots=True)
class EngineLimits:
    """DuckDB's resources. Beyond ``memory_limit`` (``"2GB"``; empty:
    :data:`DEFAULT_MEMORY_LIMIT`) DuckDB spills its tables and operators to a folder made
    for each engine in ``temp_directory`` (empty: the system's temporary folder), readable
    by this user only (the spilled rows are customer data) and removed when it closes."""

    memory_limit: str = ""
    temp_directory: str = ""
    threads: int = 0  # 0: DuckDB's default (every core)

    def config(self, spill: Path) -> dict[str, str | bool | int | float | list[str]]:
        """The DuckDB configuration these limits make, spilling to ``spill``."""
        found: dict[str, str | bool | int | float | list[str]] = {
            "preserve_insertion_order": False,
            "memory_limit": self.memory_limit or DEFAULT_MEMORY_LIMIT,
            "temp_directory": str(spill),
        }
        if self.threads > 0:
            found["threads"] = self.threads
        return found

    def spill_folder(self) -> Path:
        """A new private folder (mode 0700) for one engine's spilled data."""
        try:
            return Path(tempfile.mkdtemp(prefix="vigile-detect-", dir=self.temp_directory or None))
        except OSError as exc:
            raise DetectError(f"cannot create DuckDB's spill folder: {exc}") from exc


class FeatureEngine:
    """One DuckDB database of detection state; feed it events, ask it for features."""

    def __init__(
        self,
        *,
        agents: pa.Table,
        customers: pa.Table,
        shifts: dict[str, tuple[str, str]],
        params: FeatureParams | None = None,
        rules: tuple[Rule, ...] = (),
        limits: EngineLimits | None = None,
    ) -> None:
        self.params = params or FeatureParams()
        self.rules = rules
        self._shifts = shifts
        self._shift_span = (0, -1)
        limits = limits or EngineLimits()
        self.spill = limits.spill_folder()
        # Removed by close(), or else when the engine is collected or Python exits.
        self._remove_spill = weakref.finalize(self, shutil.rmtree, self.spill, ignore_errors=True)
        try:
            self.db = duckdb.connect(":memory:", config=limits.config(self.spill))
        except duckdb.Error as exc:
            self._remove_spill()
            raise DetectError(f"cannot start DuckDB: {exc}") from exc
        try:
            self._load_directory(agents, customers)
        except BaseException:
            self.close()
            raise
        self.watermark = -1
        self.latest_us = 0
        self.origin_us: int = 0  # time of the first event absorbed
        self.kept_until = 0  # evidence candidates are kept for accesses before this time

    def _load_directory(self, agents: pa.Table, customers: pa.Table) -> None:
        self.db.register("agents_arrow", agents)
        self.db.register("customers_arrow", customers)
        self.db.execute("CREATE TABLE agents AS SELECT * FROM agents_arrow")
        self.db.execute("CREATE TABLE customers AS SELECT * FROM customers_arrow")
        for schema, name in (
            (ACCESS_SCHEMA, "accesses"),
            (SIGNIN_SCHEMA, "signins"),
            (TICKET_SCHEMA, "ticket_events"),
        ):
            self.db.register(f"{name}_empty", schema.empty_table())
            self.db.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_empty")  # noqa: S608 - our names
        self.db.execute(
            "CREATE TABLE shifts (agent VARCHAR, day_us BIGINT, start_us BIGINT, end_us BIGINT)"
        )
        for statement in _statements("schema"):
            self.db.execute(statement)

    def close(self) -> None:
        """Release DuckDB's memory and remove its spill folder."""
        try:
            self.db.close()
        finally:
            self._remove_spill()

    def absorb(self, batch: EventBatch) -> int | None:
        """Add a batch of events; returns the earliest time it touches (None: empty)."""
        if batch.size == 0:
            self.watermark = max(self.watermark, batch.upto)
            return None
        times = [
            table.column("time_us")
            for table in (batch.accesses, batch.signins, batch.ticket_events)
            if table.num_rows
        ]
        earliest = min(pc.min(c).as_py() for c in times)
        latest = max(pc.max(c).as_py() for c in times)
        self._append(batch)
        self._cover_shifts(earliest, latest)
        try:
            for statement in _REMEMBER:
                self.db.execute(statement, {"after": self.watermark})
        except duckdb.Error as exc:
            raise DetectError(f"remember.sql: {exc}") from exc
        self.watermark = batch.upto
        self.origin_us = earliest if self.latest_us == 0 else min(self.origin_us, earliest)
        self.latest_us = max(self.latest_us, latest)
        return int(earliest)

    def features(self, bucket_us: int, since_us: int, until_us: int = _NEVER) -> pa.Table:
        """Feature rows of every agent and window (``bucket_us`` wide) from ``since_us``
        up to ``until_us`` (excluded; window-aligned)."""
        since = since_us - since_us % bucket_us
        self.judge(since, until_us)
        return self.aggregate(bucket_us, since, until_us)

    def judge(self, since_us: int, until_us: int = _NEVER) -> None:
        """Judge every buffered access in ``[since_us, until_us)`` (the ``judged`` table)."""
        params = {
            "since_us": since_us,
            "until_us": until_us,
            "grace_us": self.params.grace_us,
            "history_us": self.params.history_us,
        }
        try:
            for statement in _JUDGED:
                self.db.execute(statement, _used(params, statement))
        except duckdb.Error as exc:
            raise DetectError(f"judged.sql: {exc}") from exc

    def aggregate(self, bucket_us: int, since_us: int, until_us: int = _NEVER) -> pa.Table:
        """Feature rows from the judged accesses and the sign-ins, windows in
        ``[since_us, until_us)`` (which :meth:`judge` must cover)."""
        params = {
            "bucket_us": bucket_us,
            "since_us": since_us - since_us % bucket_us,
            "until_us": until_us,
            "history_us": self.params.history_us,
        }
        try:
            rows = self.db.sql(_SQL["features"], params=params).to_arrow_table()
        except duckdb.Error as exc:
            raise DetectError(f"features.sql: {exc}") from exc
        return self._with_rules(rows, hourly=bucket_us == HOUR_US)

    def keep_evidence(self, since_us: int, until_us: int) -> None:
        """Keep the judged windows' evidence candidates (accesses worth showing and
        sign-ins) before their events are pruned: batch detection finds its evidence
        windows only once history is scored."""
        try:
            self.db.execute(_SQL["candidates"], {"since_us": since_us, "until_us": until_us})
        except duckdb.Error as exc:
            raise DetectError(f"candidates.sql: {exc}") from exc
        self.kept_until = max(self.kept_until, until_us)

    def _with_rules(self, rows: pa.Table, *, hourly: bool) -> pa.Table:
        # Rules count per agent-hour; day rows carry empty columns to share the schema.
        hits = rule_hits(self.db, self.rules) if hourly and self.rules else {}
        keys = zip(
            rows.column("agent").to_pylist(), rows.column("bucket_us").to_pylist(), strict=True
        )
        found = [hits.get(key, (0.0, ())) for key in keys]
        rows = rows.append_column("rule_points", pa.array([p for p, _ in found], pa.float64()))
        return rows.append_column(
            "rule_titles", pa.array(["|".join(t) for _, t in found], pa.string())
        )

    def keep_customer_days(self, since_us: int, until_us: int = _NEVER) -> None:
        """Record who read which customer on the judged days from ``since_us`` (a day
        start), replacing what was recorded for them: reasons count distinct customers
        over several days from it (:func:`distinct_customers`)."""
        params = {"since_us": since_us, "until_us": until_us}
        try:
            for statement in _CUSTOMER_DAYS:
                self.db.execute(statement, params)
        except duckdb.Error as exc:
            raise DetectError(f"customer_days.sql: {exc}") from exc

    def forget_unneeded(self, until_us: int, kept_days: pa.Table) -> None:
        """Forget the evidence candidates and customer days before ``until_us`` except
        on ``kept_days`` (``agent``, ``day_us``): batch detection keeps them only for the
        agent-days scoring still holds (:class:`~vigile.detect.scoring.Retired`), so they
        do not grow with history."""
        self.db.register("kept_days", kept_days)
        try:
            for statement in _FORGET:
                self.db.execute(statement, {"until_us": until_us})
        except duckdb.Error as exc:
            raise DetectError(f"forget.sql: {exc}") from exc
        finally:
            self.db.unregister("kept_days")

    def forget_customer_days(self, before_us: int) -> None:
        """Forget the customer days before ``before_us`` (streaming retention)."""
        self.db.execute("DELETE FROM customer_days WHERE day_us < $b", {"b": before_us})

    def prune(self, keep_from_us: int | None = None) -> None:
        """Forget buffered events older than the buffer span, and than ``keep_from_us``
        when given (state tables are kept)."""
        horizon = self.latest_us - self.params.buffer_us
        if keep_from_us is not None:
            horizon = min(horizon, keep_from_us)
        horizon -= horizon % DAY_US
        # Tables are rebuilt rather than deleted from: DuckDB frees the memory at once, and
        # copying the two days kept costs less than marking the rest deleted.
        for name in ("accesses", "ticket_events"):
            self.db.execute(
                f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name} WHERE time_us >= $h",  # noqa: S608
                {"h": horizon},
            )
        # Each agent's last sign-in before the horizon stays: the next one is compared
        # with it (impossible travel), however long the agent was away.
        self.db.execute(_PRUNE_SIGNINS, {"h": horizon})
        self.db.execute("DELETE FROM shifts WHERE end_us < $h", {"h": horizon})
        self.db.execute("DELETE FROM sessions WHERE time_us < $h", {"h": horizon - 7 * DAY_US})

    def _append(self, batch: EventBatch) -> None:
        for name, table in (
            ("accesses", batch.accesses),
            ("signins", batch.signins),
            ("ticket_events", batch.ticket_events),
        ):
            if table.num_rows:
                self.db.register("incoming", table)
                self.db.execute(f"INSERT INTO {name} SELECT * FROM incoming")  # noqa: S608
                self.db.unregister("incoming")

    def _cover_shifts(self, first_us: int, last_us: int) -> None:
        # Shift intervals are generated per UTC day, only for days not yet covered.
        low = first_us - first_us % DAY_US
        high = last_us - last_us % DAY_US + DAY_US
        known_low, known_high = self._shift_span
        if known_low <= low and high <= known_high:
            return
        # Only the days past the covered span (a step may jump days ahead of it).
        start = known_high if known_high >= low and known_low <= low else low
        rows = shift_table(self._shifts, start, high - 1)
        self.db.register("incoming_shifts", rows)
        self.db.execute(
            "INSERT INTO shifts SELECT * FROM incoming_shifts i WHERE NOT EXISTS "
            "(SELECT 1 FROM shifts s WHERE s.agent = i.agent AND s.start_us = i.start_us)"
        )
        self.db.unregister("incoming_shifts")
        self._shift_span = (min(low, known_low) if known_high >= 0 else low, max(high, known_high))


def evidence_ids(
    engine: FeatureEngine, flagged: list[tuple[str, int, int]]
) -> dict[str, list[str]]:
    """Event ids behind flagged (agent, window start, width), per agent in time order."""
    if not flagged:
        return {}
    table = pa.table(
        {
            "agent": [a for a, _, _ in flagged],
            "bucket_us": [b for _, b, _ in flagged],
            "width_us": [w for _, _, w in flagged],
        },
        schema=pa.schema(
            [("agent", pa.string()), ("bucket_us", pa.int64()), ("width_us", pa.int64())]
        ),
    )
    engine.db.register("flagged", table)
    try:
        rows = engine.db.sql(_SQL["evidence"], params={"kept_us": engine.kept_until}).fetchall()
    except duckdb.Error as exc:
        raise DetectError(f"evidence.sql: {exc}") from exc
    finally:
        engine.db.unregister("flagged")
    found: dict[str, list[str]] = {}
    for agent, event_id, _ in rows:
        found.setdefault(agent, []).append(event_id)
    for agent, ids in found.items():
        found[agent] = list(dict.fromkeys(ids))  # an hour inside a flagged day comes twice
    return found


def distinct_customers(
    engine: FeatureEngine, days: list[tuple[str, int]]
) -> dict[str, dict[str, int]]:
    """Per agent, its distinct customers (read, unjustified by kind, off shift, new to the
    team) over the given (agent, day start) pairs: each customer once, whatever the days."""
    if not days:
        return {}
    table = pa.table(
        {"agent": [a for a, _ in days], "day_us": [d for _, d in days]},
        schema=pa.schema([("agent", pa.string()), ("day_us", pa.int64())]),
    )
    engine.db.register("evidence_days", table)
    try:
        result = engine.db.sql(_SQL["reasons"])
        names = [str(c) for c in result.columns]
        rows = result.fetchall()
    except duckdb.Error as exc:
        raise DetectError(f"reasons.sql: {exc}") from exc
    finally:
        engine.db.unregister("evidence_days")
    return {
        str(row[0]): {n: int(v) for n, v in zip(names[1:], row[1:], strict=True)} for row in rows
    }
