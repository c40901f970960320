"""Commands of detection: detect (batch or --follow), rules (list, test), eval."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import orjson
import typer
from rich.table import Table

from vigile.broker import Broker
from vigile.cli.output import Format, console, err, print_json
from vigile.detect.alerts import Alert, AlertStatus
from vigile.detect.book import AlertBook
from vigile.detect.containment import RecordedContainment
from vigile.detect.evaluate import EvalConfig, evaluate
from vigile.detect.features import EngineLimits
from vigile.detect.risk import RiskPolicy, Severity
from vigile.detect.rules import RULE_PACKS, check_rules, load_rules
from vigile.detect.service import DetectionConfig, detect
from vigile.detect.spark import DEFAULT_MASTER
from vigile.detect.stream import StepResult, StreamingDetector
from vigile.errors import ConfigError, InputError
from vigile.settings import Settings
from vigile.simulate.vendors import VENDORS, parse_vendors
from vigile.store import Store

__all__ = ["register"]

FormatOption = typer.Option(Format.TEXT, "--format", help="Output format: text or json.")


rules_app = typer.Typer(help="Sigma detection rules: list and test them.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command(name="detect")(detect_command)
    app.add_typer(rules_app, name="rules")
    app.command(name="eval")(eval_command)
    rules_app.command(name="test")(rules_test)
    rules_app.command(name="list")(rules_list)


def _rule_folders(settings: Settings, folder: Path | None) -> list[Path]:
    extra = folder or (Path(settings.detect_rules) if settings.detect_rules else None)
    return [*RULE_PACKS.values(), *([extra] if extra else [])]


def rules_test(
    folder: Path | None = typer.Argument(None, help="Your rules (default VIGILE_DETECT_RULES)."),
    format: Format = FormatOption,
) -> None:
    """Validate every rule and run it against its own positive and negative examples."""
    checks = check_rules(load_rules(_rule_folders(Settings.from_env(), folder)))
    if format is Format.JSON:
        print_json({"rules": [
            {"id": c.rule.id, "title": c.rule.title, "source": c.rule.source, "ok": c.ok,
             "failures": list(c.failures)}
            for c in checks
        ]})  # fmt: skip
    else:
        for check in checks:
            mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
            console.print(f"{mark} {check.rule.title} ({check.rule.source})", highlight=False)
            for failure in check.failures:
                console.print(f"    {failure}", highlight=False, markup=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def rules_list(
    folder: Path | None = typer.Argument(None, help="Your rules (default VIGILE_DETECT_RULES)."),
    format: Format = FormatOption,
) -> None:
    """List the rules with their level and SQL condition."""
    rules = load_rules(_rule_folders(Settings.from_env(), folder))
    if format is Format.JSON:
        print_json({"rules": [
            {"id": r.id, "title": r.title, "level": r.level, "source": r.source,
             "condition": r.condition}
            for r in rules
        ]})  # fmt: skip
        return
    table = Table("level", "title", "condition")
    for r in rules:
        table.add_row(r.level, r.title, r.condition)
    console.print(table)


def detection_config(settings: Settings) -> DetectionConfig:
    """Detection as the settings configure it (also used by ``vigile demo``)."""
    return DetectionConfig(
        policy=RiskPolicy(min_history=settings.detect_min_history),
        rules=tuple(load_rules(_rule_folders(settings, None))),
        limits=EngineLimits(
            memory_limit=settings.detect_memory_limit, temp_directory=settings.detect_temp_dir
        ),
        batch_events=settings.detect_batch_events,
    )


def _parse_mark(mark: str) -> tuple[int, AlertStatus]:
    alert_id, _, status = mark.partition("=")
    try:
        return int(alert_id), AlertStatus(status)
    except ValueError as exc:
        known = ", ".join(s.value for s in AlertStatus)
        raise InputError(f"--mark {mark!r}: expected ID=STATUS, STATUS one of {known}") from exc


def detect_command(
    format: Format = FormatOption,
    mark: list[str] = typer.Option(
        [], "--mark", help="Set an alert's status: ID=acknowledged|closed_benign|... (repeatable)."
    ),
    follow: bool = typer.Option(
        False, "--follow", help="Keep detecting as events arrive (from the saved watermark)."
    ),
    lake: str | None = typer.Option(
        None, "--lake", help="Read the events from this lake (folder or URL), not the store."
    ),
    engine: str = typer.Option(
        "duckdb", "--engine", help="Where the feature SQL runs: duckdb, or spark (--lake only)."
    ),
    master: str = typer.Option(
        DEFAULT_MASTER, "--master", help="Spark's master: local[N], spark://, k8s://, yarn."
    ),
) -> None:
    """Detect hijacked or abusive agent accounts in the store; print the alerts."""
    settings = Settings.from_env()
    if lake is not None and (follow or mark):
        raise InputError("--lake: batch detection only (not with --follow or --mark)")
    if engine not in ("duckdb", "spark"):
        raise InputError(f"--engine {engine}: expected duckdb or spark")
    if engine == "spark" and lake is None:
        raise InputError("--engine spark: reads a lake (--lake DIR)")
    spark_master = master if engine == "spark" else None
    if follow:
        _follow(settings, format)
        return
    with Store.open(settings) as store:
        book = AlertBook(store.engine)
        if mark:
            for item in mark:
                alert_id, status = _parse_mark(item)
                book.set_status(alert_id, status, actor="cli")
            alerts = book.alerts(include_closed=True)
        else:
            found = detect(
                store.engine, detection_config(settings), lake=lake, spark_master=spark_master
            )
            alerts = book.record(found)
    _print_alerts(alerts, format)


def _contain_at(settings: Settings) -> Severity | None:
    if not settings.detect_contain:
        return None
    try:
        return Severity(settings.detect_contain)
    except ValueError as exc:
        known = ", ".join(s.value for s in Severity)
        raise ConfigError(f"VIGILE_DETECT_CONTAIN: expected one of {known}") from exc


def _follow(settings: Settings, format: Format) -> None:
    contain_at = _contain_at(settings)
    with Store.open(settings) as store:
        # With automatic containment on, the broker suspends for real (sessions revoked,
        # requests denied); without it, requests are only recorded for an analyst.
        broker = Broker(store, settings) if contain_at is not None else None
        containment = broker if broker else RecordedContainment(store.engine)
        detector = StreamingDetector(
            store.engine, detection_config(settings), containment=containment, contain_at=contain_at
        )
        shown: dict[str, Severity] = {}
        try:
            while True:
                for step in detector.run():
                    _print_step(step, format, shown)
                time.sleep(settings.detect_poll_seconds)
        finally:
            detector.close()
            if broker is not None:
                broker.close()


def _print_step(step: StepResult, format: Format, shown: dict[str, Severity]) -> None:
    # An agent is printed when it first alerts and each time its severity rises.
    fresh = [
        a for a in step.alerts if a.agent not in shown or a.severity.rank > shown[a.agent].rank
    ]
    shown.update({a.agent: a.severity for a in fresh})
    if format is Format.JSON:
        for alert in fresh:
            sys.stdout.write(orjson.dumps(alert.as_json()).decode() + "\n")
        sys.stdout.flush()
        return
    for alert in fresh:
        console.print(f"[bold]{alert.severity.value}[/] {alert.agent} risk {alert.score:.0f}: "
                      + "; ".join(alert.reasons[:2]))  # fmt: skip
    for agent in step.contained:
        console.print(f"[red]containment requested[/] for {agent}")


def _print_alerts(alerts: list[Alert], format: Format) -> None:
    if format is Format.JSON:
        print_json({"alerts": [a.as_json() for a in alerts]})
        return
    if not alerts:
        console.print("No alerts.")
        return
    table = Table("id", "agent", "severity", "score", "first seen", "last seen", "reasons")
    for a in alerts:
        first, last = (a.as_json()[k] for k in ("first_seen", "last_seen"))
        table.add_row(
            str(a.id), a.agent, a.severity.value, f"{a.score:.0f}", first, last,
            "\n".join(a.reasons),
        )  # fmt: skip
    console.print(table)


def eval_command(
    scenario: list[str] = typer.Option(
        [], "--scenario", help="Scenarios to run (repeatable; default: all built-in)."
    ),
    seed: list[int] = typer.Option([1, 2, 3], "--seed", help="Seeds (repeatable)."),
    agents: int = typer.Option(40, "--agents", help="Agents per simulation."),
    days: int = typer.Option(31, "--days", help="Days per simulation."),
    ai_agents: int = typer.Option(
        0, "--ai-agents", help="AI agents per simulation (prompt-injection has at least 3)."
    ),
    workdir: Path | None = typer.Option(
        None, "--workdir", help="Where simulations are written (default: a temporary folder)."
    ),
    as_vendors: str | None = typer.Option(
        None,
        "--as",
        help="Also replay each simulation as these vendors' logs (comma-separated: "
        + ", ".join(VENDORS)
        + ") and report both side by side.",
    ),
    format: Format = FormatOption,
) -> None:
    """Run the simulator's scenarios over several seeds through streaming detection."""
    vendors = parse_vendors(as_vendors) if as_vendors is not None else ()
    config = EvalConfig(
        vendors=vendors,
        scenarios=tuple(scenario) or EvalConfig().scenarios,
        seeds=tuple(seed),
        agents=agents,
        days=days,
        ai_agents=ai_agents,
        detection=detection_config(Settings.from_env()),
    )
    with tempfile.TemporaryDirectory(prefix="vigile-eval-") as scratch:
        folder = workdir or Path(scratch)
        results = evaluate(config, folder, progress=lambda what: err.print(f"running {what}"))
    if format is Format.JSON:
        print_json({"scenarios": [r.as_json() for r in results]})
        return
    table = Table("scenario", "log", "caught", "false alarms /1000 agent-weeks", "minutes to high",
                  "recall at 1% FA")  # fmt: skip
    for r in results:
        data = r.as_json()
        table.add_row(
            r.scenario, r.log, f"{r.caught}/{r.compromised}",
            f"{data['false_alarms_per_1000_agent_weeks']} ({r.false_alarm_agents} agents)",
            str(data["median_minutes_to_high"] if r.minutes_to_high else "-"),
            "-" if r.recall_at_1pct is None else f"{r.recall_at_1pct:.2f}",
        )  # fmt: skip
    console.print(table)
