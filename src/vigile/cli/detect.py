"""Commands of detection: detect (batch or --follow), rules, eval."""

from __future__ import annotations

import typer
from rich.table import Table

from vigile.cli.output import Format, console, print_json
from vigile.detect.alerts import Alert, AlertStatus
from vigile.detect.book import AlertBook
from vigile.detect.risk import RiskPolicy
from vigile.detect.service import DetectionConfig, detect
from vigile.errors import InputError
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]

FormatOption = typer.Option(Format.TEXT, "--format", help="Output format: text or json.")


def register(app: typer.Typer) -> None:
    app.command(name="detect")(detect_command)


def _config(settings: Settings) -> DetectionConfig:
    return DetectionConfig(policy=RiskPolicy(min_history=settings.detect_min_history))


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
) -> None:
    """Detect hijacked or abusive agent accounts in the store; print the alerts."""
    settings = Settings.from_env()
    with Store.open(settings) as store:
        book = AlertBook(store.engine)
        if mark:
            for item in mark:
                alert_id, status = _parse_mark(item)
                book.set_status(alert_id, status, actor="cli")
            alerts = book.alerts(include_closed=True)
        else:
            alerts = book.record(detect(store.engine, _config(settings)))
    _print_alerts(alerts, format)


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
