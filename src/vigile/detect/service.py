"""Batch detection over everything the store holds: features, baselines, model, rules,
risk, alerts. :func:`detect` is what ``vigile detect`` runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import Engine

from vigile.detect.alerts import Alert, agent_risks, evidence_days, explain
from vigile.detect.errors import DetectError
from vigile.detect.features import (
    EngineLimits,
    FeatureEngine,
    FeatureParams,
    distinct_customers,
    evidence_ids,
)
from vigile.detect.lake_source import read_lake_batches
from vigile.detect.risk import (
    RiskPolicy,
    ScoredHours,
)
from vigile.detect.rules import RULE_PACKS, Rule, load_rules
from vigile.detect.scoring import PeriodScorer, Retired, widen
from vigile.detect.source import DAY_US, HOUR_US, EventBatch, read_batches, read_directory
from vigile.detect.spark import SparkFeatureEngine, open_lake_checked

__all__ = [
    "DetectionConfig",
    "alerts_from",
    "detect",
    "feature_rows",
    "open_features",
    "open_spark_features",
    "score_computed",
    "scored_rows",
]

_EVIDENCE_CAP = 2_000  # ids per alert: enough to scope a response, small enough to print


@dataclass(frozen=True, kw_only=True, slots=True)
class DetectionConfig:
    """Everything that shapes a detection run."""

    params: FeatureParams = field(default_factory=FeatureParams)
    policy: RiskPolicy = field(default_factory=RiskPolicy)
    rules: tuple[Rule, ...] = field(default_factory=lambda: tuple(load_rules(RULE_PACKS.values())))
    use_model: bool = True
    seed: int = 0
    limits: EngineLimits = field(default_factory=EngineLimits)
    #: Events read from the store and folded at a time in batch: memory is bounded by
    #: this and by two days of events, not by history.
    batch_events: int = 1_000_000


def open_features(
    engine: Engine, config: DetectionConfig
) -> tuple[FeatureEngine, Mapping[str, str]]:
    """A feature engine loaded with the store's directory, and each agent's time zone."""
    agents, customers, shifts = read_directory(engine)
    zones = {agent: zone for agent, (zone, _) in shifts.items()}
    features = FeatureEngine(
        agents=agents, customers=customers, shifts=shifts, params=config.params,
        rules=config.rules, limits=config.limits,
    )  # fmt: skip
    return features, zones


def open_spark_features(
    engine: Engine, config: DetectionConfig, lake: str, master: str
) -> tuple[SparkFeatureEngine, Mapping[str, str]]:
    """A Spark feature engine over the lake at ``lake``, with the store's directory: the
    lake is checked before Spark starts."""
    checked = open_lake_checked(lake)
    agents, customers, shifts = read_directory(engine)
    zones = {agent: zone for agent, (zone, _) in shifts.items()}
    features = SparkFeatureEngine(
        lake=checked, master=master, agents=agents, customers=customers, shifts=shifts,
        params=config.params, rules=config.rules,
    )  # fmt: skip
    return features, zones


def alerts_from(
    scored: ScoredHours,
    features: FeatureEngine,
    zones: Mapping[str, str],
    policy: RiskPolicy,
) -> list[Alert]:
    """Alerts of every agent whose risk reaches a severity, most severe first."""
    risks = [r for r in agent_risks(scored, policy) if policy.severity(r.risk) is not None]
    buckets, widths = scored.rows.column("bucket_us"), scored.rows.column("width_us")
    flagged = [
        (r.agent, buckets[int(i)].as_py(), widths[int(i)].as_py()) for r in risks for i in r.rows
    ]
    evidence = evidence_ids(features, flagged)
    days = [(r.agent, day) for r in risks for day in evidence_days(scored, r)]
    exact = distinct_customers(features, days)
    first, last = scored.column("first_us"), scored.column("last_us")
    alerts = []
    for risk in risks:
        severity = policy.severity(risk.risk)
        assert severity is not None
        alerts.append(
            Alert(
                agent=risk.agent,
                severity=severity,
                score=risk.risk,
                first_us=int(first[risk.rows].min()),
                last_us=int(last[risk.rows].max()),
                reasons=explain(scored, risk, zones.get(risk.agent, "UTC"), exact.get(risk.agent)),
                evidence=tuple(evidence.get(risk.agent, [])[:_EVIDENCE_CAP]),
            )
        )
    return sorted(alerts, key=lambda a: (-a.severity.rank, -a.score, a.agent))


class _OutOfOrder(DetectError):
    """A batch of the store holds events older than windows already computed."""


def feature_rows(
    features: FeatureEngine, batches: Iterable[EventBatch], *, whole: bool = False
) -> pa.Table:
    """Hour and day rows (with ``width_us``) of the events of ``batches``: in ``seq`` order,
    ending with an empty batch (:func:`~vigile.detect.source.read_batches`); ``whole``:
    one batch holds everything. See :func:`_computed_days`."""
    tables = [rows for rows, _ in _computed_days(features, batches, whole=whole)]
    # One order whatever the batches: hours then days, by agent and time.
    return pa.concat_tables(tables).sort_by(
        [("width_us", "ascending"), ("agent", "ascending"), ("bucket_us", "ascending")]
    )


def scored_rows(
    features: FeatureEngine,
    batches: Iterable[EventBatch],
    config: DetectionConfig,
    *,
    whole: bool = False,
) -> ScoredHours:
    """Hour and day rows of the events of ``batches``, scored period after period
    (:func:`~vigile.detect.scoring.score_over_time`'s result). Each period is scored in a
    thread as soon as its days are computed, while DuckDB computes the next batches'."""
    return score_computed(features, _computed_days(features, batches, whole=whole), config)


def score_computed(
    features: FeatureEngine,
    computed: Iterable[tuple[pa.Table, int]],
    config: DetectionConfig,
) -> ScoredHours:
    """Scores of the hour and day rows ``computed`` gives (with the time before which every
    window is computed), period after period: :func:`scored_rows`' work, whichever engine
    computed the rows."""
    scorer: PeriodScorer | None = None

    def settle(job: Future[Retired | None]) -> None:
        retired = job.result()  # raises what the scoring raised
        if retired is not None:  # DuckDB is this thread's: the scoring thread only says
            features.forget_unneeded(retired.until_us, retired.days)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigile-score") as pool:
        pending: list[Future[Retired | None]] = []
        for rows, ready in computed:
            if scorer is None:  # the first rows fix the origin: the day of the first event
                scorer = _scorer(config, features.origin_us)
            pending.append(pool.submit(scorer.add, rows, ready))
            while pending and pending[0].done():
                settle(pending.pop(0))
        for job in pending:
            settle(job)
    if scorer is None:
        scorer = _scorer(config, features.origin_us)
    return scorer.finish()


def _scorer(config: DetectionConfig, origin_us: int) -> PeriodScorer:
    return PeriodScorer(
        config.policy, origin_us=origin_us, use_model=config.use_model, seed=config.seed,
        retire=True,
    )  # fmt: skip


def _computed_days(
    features: FeatureEngine, batches: Iterable[EventBatch], *, whole: bool
) -> Iterator[tuple[pa.Table, int]]:
    """Hour and day rows of the days each batch completes, and the time before which
    every window is computed.

    ``seq`` order is time order when the store was filled in time order (ingest sorts each
    file, the broker appends as it goes). After each batch the days before the latest one
    are complete: they are judged, aggregated, their evidence candidates kept, and their
    events pruned (two days stay buffered for the signals that look back, as in
    streaming). A batch holding events of an already computed day raises
    :class:`_OutOfOrder`; :func:`detect` then reads everything at once.
    """
    done = 0  # windows before this time are computed
    for batch in batches:
        last = whole or batch.upto <= features.watermark  # nothing after it
        earliest = features.absorb(batch)
        del batch  # DuckDB holds its rows now: the next batch is read without this one
        if earliest is not None and earliest < done:
            raise _OutOfOrder(f"events of {earliest} after windows up to {done} were computed")
        latest = features.latest_us
        ready = latest - latest % DAY_US + (DAY_US if last else 0)
        if ready > done:
            hours = widen(features.features(HOUR_US, done, ready), HOUR_US)
            days = widen(features.aggregate(DAY_US, done, ready), DAY_US)
            features.keep_evidence(done, ready)
            features.keep_customer_days(done, ready)
            done = ready
            features.prune(keep_from_us=done)
            yield pa.concat_tables([hours, days]), done


def detect(
    engine: Engine,
    config: DetectionConfig | None = None,
    *,
    lake: str | None = None,
    spark_master: str | None = None,
) -> list[Alert]:
    """Alerts over every event in the store (batch), or in the lake at ``lake`` (the
    directory of agents and customers is the store's either way); on Spark at
    ``spark_master`` when given (a lake's only)."""
    config = config or DetectionConfig()
    if spark_master is not None:
        if lake is None:
            raise DetectError("the Spark engine reads a lake (--lake DIR)")
        features, zones = open_spark_features(engine, config, lake, spark_master)
        try:
            scored = score_computed(features, features.computed(), config)
            return alerts_from(scored, features, zones, config.policy)
        finally:
            features.close()
    try:
        return _detect(engine, config, config.batch_events, lake)
    except _OutOfOrder:
        return _detect(engine, config, None, lake)


def _detect(
    engine: Engine, config: DetectionConfig, batch_events: int | None, lake: str | None
) -> list[Alert]:
    features, zones = open_features(engine, config)
    try:
        if lake is None:
            batches = read_batches(engine, after=features.watermark, limit=batch_events)
        else:
            batches = read_lake_batches(lake, after=features.watermark, limit=batch_events)
        scored = scored_rows(features, batches, config, whole=batch_events is None)
        return alerts_from(scored, features, zones, config.policy)
    finally:
        features.close()
