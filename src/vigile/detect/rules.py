"""Sigma rule packs: loaded, validated, converted to SQL, tested against their own
examples, and run over the judged accesses to add risk per agent and hour.

Packs are registered by name in :data:`RULE_PACKS`; the shipped pack (``vigile``) goes
through :func:`register_rule_pack` like a user's folder would. Each rule may carry
``tests: {match: [events], nomatch: [events]}``: events (judged-access fields) it must
and must not match; ``vigile rules test`` runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import yaml
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError
from sigma.rule import SigmaDetectionItem, SigmaRule

from vigile.detect.errors import RuleError
from vigile.detect.sigma_sql import FIELD_ALIASES, RULE_FIELDS, JudgedSqlBackend, field_pipeline

__all__ = [
    "LEVEL_POINTS",
    "RULE_PACKS",
    "Rule",
    "RuleCheck",
    "check_rules",
    "load_rules",
    "register_rule_pack",
    "rule_hits",
]

#: Risk points a rule adds to an agent-hour it matches, once per rule and hour.
LEVEL_POINTS: Mapping[str, float] = {
    "informational": 0.0, "low": 1.0, "medium": 3.0, "high": 6.0, "critical": 12.0,
}  # fmt: skip

RULE_PACKS: dict[str, Path] = {}
"""Rule folders by pack name."""

_INTEGER_FIELDS = frozenset(
    {"time_us", "result_count", "sensitive", "off_shift", "new_for_agent", "new_for_team",
     "address_mismatch"}
)  # fmt: skip


def register_rule_pack(name: str, folder: Path) -> None:
    """Make a folder of ``*.yml`` Sigma rules available as pack ``name``."""
    if name in RULE_PACKS:
        raise ValueError(f"a rule pack named {name!r} is already registered")
    RULE_PACKS[name] = folder


register_rule_pack("vigile", Path(str(resources.files("vigile.detect").joinpath("sigma"))))


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """A Sigma rule ready to run: its SQL condition and its examples."""

    id: str
    title: str
    level: str
    source: str
    condition: str
    match: tuple[Mapping[str, Any], ...]
    nomatch: tuple[Mapping[str, Any], ...]

    @property
    def points(self) -> float:
        """Risk points per matched agent-hour."""
        return LEVEL_POINTS.get(self.level, 0.0)


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleCheck:
    """The outcome of testing one rule against its examples."""

    rule: Rule
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether every example behaved."""
        return not self.failures


def _fields(items: Iterable[Any]) -> Iterator[str]:
    for item in items:
        if isinstance(item, SigmaDetectionItem):
            if item.field is not None:
                yield item.field
        elif hasattr(item, "detection_items"):
            yield from _fields(item.detection_items)


def _convert(sigma: SigmaRule, source: str) -> str:
    unknown = sorted(
        {FIELD_ALIASES.get(f, f) for d in sigma.detection.detections.values()
         for f in _fields(d.detection_items)} - RULE_FIELDS
    )  # fmt: skip
    if unknown:
        raise RuleError(source, f"unknown fields {', '.join(unknown)}")
    try:
        queries = JudgedSqlBackend(field_pipeline()).convert_rule(sigma)
    except SigmaError as exc:
        raise RuleError(source, f"cannot convert: {exc}") from exc
    if len(queries) != 1:
        raise RuleError(source, "a rule must convert to exactly one condition")
    return str(queries[0])


def _rule(path: Path) -> Rule:
    source = str(path)
    try:
        text = path.read_text("utf-8")
        document = yaml.safe_load(text)
        sigma = SigmaCollection.from_yaml(text).rules[0]
        if not isinstance(sigma, SigmaRule):
            raise IndexError("a correlation rule, not a detection rule")
    except (OSError, yaml.YAMLError, SigmaError, IndexError) as exc:
        raise RuleError(source, f"not a Sigma rule: {exc}") from exc
    tests = document.get("tests") or {} if isinstance(document, dict) else {}
    if sigma.level is None:
        raise RuleError(source, "a rule needs a level (low, medium, high, critical)")
    return Rule(
        id=str(sigma.id or path.stem),
        title=sigma.title,
        level=str(sigma.level.name).lower(),
        source=source,
        condition=_convert(sigma, source),
        match=tuple(tests.get("match") or ()),
        nomatch=tuple(tests.get("nomatch") or ()),
    )


def load_rules(folders: Iterable[Path]) -> list[Rule]:
    """Every ``*.yml`` rule of the folders, in name order; the first bad one raises."""
    rules: list[Rule] = []
    for folder in folders:
        if not folder.is_dir():
            raise RuleError(str(folder), "no such rule folder")
        rules.extend(_rule(path) for path in sorted(folder.glob("*.yml")))
    return rules


def _examples(events: Iterable[Mapping[str, Any]]) -> pa.Table:
    rows = list(events)
    for row in rows:
        extra = set(row) - RULE_FIELDS
        if extra:
            raise ValueError(f"example names unknown fields {', '.join(sorted(extra))}")
    columns = {
        name: pa.array(
            [row.get(name) for row in rows], pa.int64() if name in _INTEGER_FIELDS else pa.string()
        )
        for name in sorted(RULE_FIELDS)
    }
    return pa.table(columns)


def _matches(db: duckdb.DuckDBPyConnection, rule: Rule, event: Mapping[str, Any]) -> bool:
    db.register("example", _examples([event]))
    try:
        # The condition is SQL the backend generated from the rule, values quoted by it.
        query = f"SELECT count(*) FROM example WHERE {rule.condition}"  # noqa: S608
        found = db.sql(query).fetchall()
    finally:
        db.unregister("example")
    return bool(found[0][0])


def check_rules(rules: Iterable[Rule]) -> list[RuleCheck]:
    """Run every rule against its own positive and negative examples."""
    db = duckdb.connect(":memory:")
    checks = []
    for rule in rules:
        failures = []
        if not rule.match:
            failures.append("no positive example (tests.match)")
        try:
            failures += [f"should match {e}" for e in rule.match if not _matches(db, rule, e)]
            failures += [f"should not match {e}" for e in rule.nomatch if _matches(db, rule, e)]
        except (duckdb.Error, ValueError) as exc:
            failures.append(f"cannot run: {exc}")
        checks.append(RuleCheck(rule=rule, failures=tuple(failures)))
    db.close()
    return checks


def rule_hits(
    db: duckdb.DuckDBPyConnection, rules: Iterable[Rule]
) -> dict[tuple[str, int], tuple[float, tuple[str, ...]]]:
    """Per (agent, hour) of the judged accesses: rule points and the titles matched."""
    hits: dict[tuple[str, int], tuple[float, tuple[str, ...]]] = {}
    for rule in rules:
        # The condition is SQL the backend generated from the rule, values quoted by it.
        where = f"WHERE {rule.condition} GROUP BY 1, 2"
        query = "SELECT agent, time_us - time_us % 3600000000 AS hour_us FROM judged " + where  # noqa: S608
        try:
            found = db.sql(query).fetchall()
        except duckdb.Error as exc:
            raise RuleError(rule.source, f"cannot run: {exc}") from exc
        for agent, hour in found:
            points, titles = hits.get((agent, hour), (0.0, ()))
            hits[(agent, hour)] = (points + rule.points, (*titles, rule.title))
    return hits
