"""Baselines' robust rates against a slow reference (DuckDB's ``quantile_cont``, what they
were computed with before), and period scoring whatever the split of its rows."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigile.detect.baseline as baseline
import vigile.detect.scoring as scoring
from tests.detect.conftest import Stored
from vigile.detect.alerts import AgentRisk, _days_of, agent_risks, explain
from vigile.detect.baseline import trimmed_rates
from vigile.detect.errors import DetectError
from vigile.detect.features import FEATURE_COLUMNS
from vigile.detect.risk import FLAG_SIGNALS, RiskPolicy, ScoredHours, score_hours
from vigile.detect.scoring import PeriodScorer, score_over_time
from vigile.detect.service import DetectionConfig, alerts_from, feature_rows, open_features
from vigile.detect.source import DAY_US, HOUR_US, read_batches
from vigile.store import Store

Floats = npt.NDArray[np.float64]


def _reference(codes: list[int], groups: int, values: list[float]) -> npt.NDArray[np.float64]:
    """Mean of the values at or below the 90th percentile, never below the median: DuckDB."""
    db = duckdb.connect()
    db.register(
        "t", pa.table({"k": pa.array(codes, pa.int64()), "x": pa.array(values, pa.float64())})
    )
    rows = db.sql(
        "WITH q AS (SELECT k, quantile_cont(x, [0.5, 0.9]) AS q FROM t GROUP BY k) "
        "SELECT t.k, greatest(coalesce(avg(CASE WHEN t.x <= q.q[2] THEN t.x END), 0), "
        "any_value(q.q[1])) FROM t JOIN q ON q.k = t.k GROUP BY t.k"
    ).fetchall()
    db.close()
    found = np.zeros(groups)
    for key, rate in rows:
        found[key] = rate
    return found


_rows = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40)), min_size=1, max_size=300)


@settings(max_examples=200, deadline=None)
@given(_rows)
def test_count_rates_match_duckdbs_quantiles(rows: list[tuple[int, int]]) -> None:
    codes = [k for k, _ in rows]
    values = [float(v) for _, v in rows]
    got = trimmed_rates(np.array(codes), 6, np.array(values))
    assert got == pytest.approx(_reference(codes, 6, values), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(_rows, st.sampled_from([0.25, 1e9]))
def test_sorted_and_fractional_values_match_too(rows: list[tuple[int, int]], scale: float) -> None:
    # Too many distinct counts for a histogram, or values that are not counts: a sort.
    codes = [k for k, _ in rows]
    values = [v * scale for _, v in rows]
    got = trimmed_rates(np.array(codes), 6, np.array(values))
    assert got == pytest.approx(_reference(codes, 6, values), rel=1e-12, abs=1e-12)


def test_the_histogram_and_the_sort_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 50, 20_000)
    values = rng.poisson(0.7, 20_000).astype(np.float64)
    histogram = trimmed_rates(codes, 50, values)
    monkeypatch.setattr(baseline, "_HISTOGRAM_CELLS", 0)
    assert trimmed_rates(codes, 50, values) == pytest.approx(histogram, abs=1e-12)
    assert histogram == pytest.approx(_reference(codes.tolist(), 50, values.tolist()), abs=1e-12)


def test_periods_scored_as_days_arrive_equal_one_scoring(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    # Batch detection hands the scorer each batch's complete days: the scores must be those
    # of scoring every row at once (history is put back in one order before each fit).
    data = stored("nobelium")
    with Store.open(data.settings(tmp_path)) as store:
        features, _ = open_features(store.engine, DetectionConfig())
        rows = feature_rows(features, read_batches(store.engine, limit=None))
        origin = features.origin_us
        features.close()
    policy = RiskPolicy()
    whole = score_over_time(rows, policy, origin_us=origin)
    scorer = PeriodScorer(policy, origin_us=origin)
    buckets = np.asarray(rows.column("bucket_us").to_numpy())
    first = int(buckets.min()) - int(buckets.min()) % DAY_US
    for day in range(first, int(buckets.max()) + DAY_US, 3 * DAY_US):  # 3 days at a time
        chunk = rows.filter(pa.array((buckets >= day) & (buckets < day + 3 * DAY_US)))
        scorer.add(chunk, day + 3 * DAY_US)
    parts = scorer.finish()
    assert parts.rows.num_rows == whole.rows.num_rows
    key = ["width_us", "agent", "bucket_us"]
    ordered = parts.rows.append_column("score", pa.array(parts.score)).sort_by(
        [(k, "ascending") for k in key]
    )
    expected = whole.rows.append_column("score", pa.array(whole.score)).sort_by(
        [(k, "ascending") for k in key]
    )
    assert ordered.column("agent").equals(expected.column("agent"))
    assert np.asarray(ordered.column("score")) == pytest.approx(
        np.asarray(expected.column("score")), abs=1e-9
    )
    assert whole.score.max() > 0  # the attack is scored, not only the warm-up


def test_rows_of_a_period_already_scored_are_refused() -> None:
    policy = RiskPolicy()
    rows = pa.table(
        {
            "agent": ["a"], "team": ["t"], "bucket_us": [8 * DAY_US], "width_us": [DAY_US],
        }
    )  # fmt: skip
    scorer = PeriodScorer(policy, origin_us=0, use_model=False)
    scorer.add(rows.slice(0, 0), complete_us=14 * DAY_US)  # period 1 is complete
    with pytest.raises(DetectError, match="already scored"):
        scorer.add(rows, complete_us=21 * DAY_US)


def test_retired_periods_keep_the_alerts(stored: Callable[[str], Stored], tmp_path: Path) -> None:
    # Periods no refit learns from any more keep only the rows that scored and the day
    # rows of evidence days: fewer rows, the same alerts (risk, evidence, reasons).
    data = stored("nobelium")
    policy = RiskPolicy(history_us=7 * DAY_US)  # 31 days: periods 0 to 2 are retired
    with Store.open(data.settings(tmp_path)) as store:
        features, zones = open_features(store.engine, DetectionConfig())
        rows = feature_rows(features, read_batches(store.engine, limit=None))
        scored = {}
        for retire in (False, True):
            scorer = PeriodScorer(policy, origin_us=features.origin_us, retire=retire)
            scorer.add(rows)
            scored[retire] = scorer.finish()
        alerts = {k: alerts_from(v, features, zones, policy) for k, v in scored.items()}
        features.close()
    assert scored[True].rows.num_rows < 0.7 * scored[False].rows.num_rows
    assert any(a.severity.rank >= 2 for a in alerts[False])
    assert alerts[True] == alerts[False]


def _random_rows(seed: int, *, agents: int, days: int) -> pa.Table:
    """Hour rows on a few hours of each agent-day and a day row per active day, each with
    a made-up score in ``s``: mostly 0, ties common (steps of 0.1), some evidence (>= 3)."""
    rng = np.random.default_rng(seed)
    names, buckets, widths, scores = [], [], [], []
    values = np.array([0.0, 0.0, 0.0, 0.1, 0.3, 0.7, 1.3, 2.9, 3.0, 4.2])
    weights = np.array([40, 20, 10, 8, 6, 5, 4, 3, 2, 2]) / 100
    for agent in range(agents):
        for day in range(days):
            if rng.random() < 0.2:
                continue  # a day off
            hours = np.sort(rng.choice(24, size=int(rng.integers(1, 9)), replace=False))
            for bucket, width in [
                *((day * DAY_US + int(h) * HOUR_US, HOUR_US) for h in hours),
                (day * DAY_US, DAY_US),
            ]:
                names.append(f"agent-{agent:02d}")
                buckets.append(bucket)
                widths.append(width)
                scores.append(float(rng.choice(values, p=weights)))
    return pa.table({
        "agent": pa.array(names), "bucket_us": pa.array(buckets, pa.int64()),
        "width_us": pa.array(widths, pa.int64()), "s": pa.array(scores, pa.float64()),
    })  # fmt: skip


def _made_up_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring reads the made-up score: only what periods keep and carry is under test."""

    def score_rows(rows: pa.Table, fitted: object, policy: RiskPolicy) -> tuple[Floats, dict]:
        score = np.asarray(rows.column("s").to_numpy(), dtype=np.float64)
        return score, {"model": np.zeros(rows.num_rows)}

    monkeypatch.setattr(scoring, "fit_period", lambda *args, **kwargs: None)
    monkeypatch.setattr(scoring, "score_rows", score_rows)


def _risks(scored: ScoredHours, policy: RiskPolicy) -> list[tuple[object, ...]]:
    buckets = scored.ints("bucket_us")
    return [
        (
            r.agent, r.risk, r.peak_us, sorted(buckets[r.rows].tolist()),
            sorted(buckets[_days_of(scored, r)].tolist()),
        )
        for r in agent_risks(scored, policy)
    ]  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_retired_rows_stop_growing_and_the_risks_stay(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # Against scoring that keeps every row: the same peak (to the bit), the same peak
    # bucket (the earliest on a tie), the same evidence and evidence days; and of the
    # rows retired periods hold, all but the evidence are within the history and the
    # longer risk window before the last period.
    _made_up_scores(monkeypatch)
    policy = RiskPolicy(period_us=7 * DAY_US, history_us=14 * DAY_US)
    rows = _random_rows(seed, agents=12, days=120)
    scored = {}
    for retire in (False, True):
        scorer = PeriodScorer(policy, origin_us=0, retire=retire)
        for day in range(0, 120, 5):  # five days at a time, as batches arrive
            buckets = np.asarray(rows.column("bucket_us").to_numpy())
            batch = (buckets >= day * DAY_US) & (buckets < (day + 5) * DAY_US)
            scorer.add(rows.filter(pa.array(batch)), complete_us=(day + 5) * DAY_US)
        scored[retire] = scorer.finish()
    kept, everything = scored[True], scored[False]
    assert _risks(kept, policy) == _risks(everything, policy)
    assert len(_risks(everything, policy)) >= 6
    assert kept.carried.peaks  # the carried part is used, not only held rows
    assert kept.rows.num_rows < 0.4 * everything.rows.num_rows
    last = (120 // 7) * 7 * DAY_US  # the last period's start
    held_from = last - policy.history_us - policy.long_window_us
    evidence = kept.score >= policy.evidence_hour
    days = kept.ints("width_us") == DAY_US
    old = kept.ints("bucket_us") < held_from
    assert not (old & ~evidence & ~days).any()
    assert (old & evidence).sum() == (
        everything.score[everything.ints("bucket_us") < held_from] >= policy.evidence_hour
    ).sum()


def _binomial_tail(k: int, n: int, p: float) -> float:
    """``P(X >= k)``, ``X ~ Binomial(n, p)``, summed term by term (no scipy)."""
    return 1.0 - sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k))


def test_a_share_is_judged_by_its_binomial_tail() -> None:
    found = baseline.share_surprise(
        np.array([10.0, 10.0, 3.0, 0.0, 1.0]),
        np.array([10.0, 500.0, 100.0, 0.0, 100.0]),
        np.array([0.01, 0.01, 0.01, 0.01, 0.01]),
    )
    assert found[0] == 12.0  # 1e-20: capped
    assert found[1] == pytest.approx(-math.log10(_binomial_tail(10, 500, 0.01)), rel=1e-9)
    assert found[2] == pytest.approx(-math.log10(_binomial_tail(3, 100, 0.01)), rel=1e-9)
    assert found[3] == 0.0  # no requests
    assert found[4] == 0.0  # at the usual share


def test_denials_count_by_their_share_of_the_requests() -> None:
    # The same ten denials: all of ten requests is an alarm, ten of five hundred from an
    # agent denied now and then (one in fifty) is the usual.
    history = {"agent": ["a-1"] * 60, "team": ["t"] * 60}
    columns = {name: np.zeros(60) for name in baseline.BASELINE_COLUMNS}
    columns["accesses"] = np.full(60, 50.0)
    columns["denied"] = np.array([1.0, 0.0] * 30)
    fitted = baseline.fit_baselines(history["agent"], history["team"], columns, min_history=40)
    ratio = baseline.RATIO_SIGNALS["denied_ratio"]
    assert fitted.share("a-1", "t", ratio) == pytest.approx(0.5 / 50)
    rows = pa.table({
        "agent": ["a-1", "a-1"], "team": ["t", "t"],
        **{name: [0, 0] for name in (*baseline.BASELINE_COLUMNS, *baseline.RATIO_SIGNALS)},
        "accesses": [10, 500], "denied": [10, 10], "denied_ratio": [1.0, 0.02],
        **{name: [0, 0] for name in FLAG_SIGNALS},
    })  # fmt: skip
    parts = score_hours(rows, fitted, policy=RiskPolicy()).parts["denied_ratio"]
    assert parts[0] > 3
    assert parts[1] < 0.5


def test_reasons_name_sweeps_sessions_at_once_and_denials() -> None:
    # One flagged hour and its day: the reasons read the day row's counts, for the
    # signals that scored in the evidence hours.
    names = [n for n in FEATURE_COLUMNS if n not in ("denied_ratio", "sensitive_share")]
    counts = {name: [0, 0] for name in names}
    counts |= {"accesses": [40, 40], "denied": [9, 9], "sequential_requests": [12, 12],
               "concurrent_sessions": [2, 2], "customers": [20, 20],
               "sensitive_customers": [18, 18]}  # fmt: skip
    rows = pa.table({
        "agent": ["a-1", "a-1"], "team": ["t", "t"], "bucket_us": [10 * HOUR_US, 0],
        "width_us": [HOUR_US, DAY_US], "last_us": [10 * HOUR_US, 10 * HOUR_US],
        **counts, "denied_ratio": [9 / 40, 9 / 40], "sensitive_share": [0.9, 0.9],
        "new_country_names": ["", ""],
        "novel_signin_us": pa.array([None, None], pa.int64()), "rule_titles": ["", ""],
    })  # fmt: skip
    parts = {name: np.array([1.5, 0.0]) for name in
             ("sequential_requests", "concurrent_sessions", "denied_ratio",
              "sensitive_share")}  # fmt: skip
    scored = ScoredHours(rows=rows, score=np.array([4.5, 0.0]), parts=parts)
    risk = AgentRisk(
        agent="a-1", risk=4.5, peak_us=10 * HOUR_US, rows=np.array([0]), all_rows=np.array([1, 0])
    )
    reasons = explain(scored, risk, "UTC")
    assert "12 requests stepping through customer ids in order" in reasons
    assert "2 sessions in use at the same time" in reasons
    assert "9 of 40 requests denied in 1 hour" in reasons
    assert "18 of 20 customers requested in 1 hour were government or enterprise" in reasons
    one_step = rows.set_column(
        rows.column_names.index("sequential_requests"), "sequential_requests", pa.array([1, 2])
    )
    few = ScoredHours(rows=one_step, score=scored.score, parts=parts)
    assert not any("customer ids" in r for r in explain(few, risk, "UTC"))
    faint = ScoredHours(
        rows=rows, score=scored.score, parts={**parts, "sensitive_share": np.array([0.1, 0.0])}
    )  # less than a point of surprise beyond the allowance: not a reason
    assert not any("government or enterprise" in r for r in explain(faint, risk, "UTC"))
    quiet = ScoredHours(rows=rows, score=np.zeros(2), parts={n: np.zeros(2) for n in parts})
    assert explain(quiet, risk, "UTC") == ("up to 20 customers in one hour",)


def test_volume_is_judged_against_the_team_too() -> None:
    # a-1 has read 30 customers an hour for weeks (its own habit: nothing unusual in 30);
    # its team reads 5. Against the team, 30 in an hour stands out; 5 does not.
    agents = ["a-1"] * 60 + [f"b-{i}" for i in range(240)]
    columns = {name: np.zeros(300) for name in baseline.BASELINE_COLUMNS}
    columns["customers"] = np.array([30.0] * 60 + [5.0] * 240)
    columns["accesses"] = 2 * columns["customers"]
    fitted = baseline.fit_baselines(agents, ["t"] * 300, columns, min_history=40)
    rows = pa.table({
        "agent": ["a-1", "a-1"], "team": ["t", "t"],
        **{name: [0, 0] for name in (*baseline.BASELINE_COLUMNS, *baseline.RATIO_SIGNALS)},
        "customers": [30, 5], "accesses": [60, 10],
        **{name: [0, 0] for name in FLAG_SIGNALS},
    })  # fmt: skip
    scored = score_hours(rows, fitted, policy=RiskPolicy())
    assert scored.parts["customers"].tolist() == [0.0, 0.0]  # the agent's own habit
    team = scored.parts["customers_vs_team"]
    assert team[0] > 1
    assert team[1] == 0.0
