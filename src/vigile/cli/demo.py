"""``vigile demo``: the seed incident, simulated into the embedded store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from vigile.cli.detect import detection_config
from vigile.cli.output import Format, console, print_json, progress_bar
from vigile.detect import Alert, AlertBook, Severity, detect
from vigile.ledger.audit import VerifyReport, verify_ledger
from vigile.ledger.keyfile import load_verifier
from vigile.ledger.service import public_key_path
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store
from vigile.store.engine import connect

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    out: Path = typer.Option(Path("vigile-demo"), help="Folder for the simulated files."),
    agents: int = typer.Option(150, help="Support agents to simulate."),
    days: int = typer.Option(31, help="Days to simulate, from 2021-05-01."),
    seed: int = typer.Option(2021, help="Random seed."),
    format: Format = typer.Option(Format.TEXT, "--format", help="Output format: text or json."),
) -> None:
    """Replay the 2021 incident: a hijacked support agent harvesting billing contacts."""
    settings = Settings.from_env()
    out.mkdir(parents=True, exist_ok=True)
    config = SimulationConfig(
        scenario="nobelium", seed=seed, days=days, agents=agents, customers=agents * 10
    )
    with progress_bar("Simulating the support organisation", total=1) as update:
        result = simulate(config, out, progress=update)
    with Store.open(settings, create=True) as store:
        with progress_bar("Storing the activity log and its ledger", total=1) as update:
            summary = store.ingest(result.path, progress=update)
        counts, location = store.counts(), store.location
        with progress_bar("Detecting hijacked accounts", total=1):
            alerts = AlertBook(store.engine).record(
                detect(store.engine, detection_config(settings))
            )
        report = _verify(store, sum(counts[t] for t in ("ticket_events", "signins", "accesses")))
    truth = json.loads(result.truth_path.read_text())
    if format is Format.JSON:
        print_json(
            {
                "store": location,
                "tables": counts,
                "ledger": {"entries": report.entries, "root": report.root, "ok": report.ok},
                "alerts": [alert.as_json() for alert in alerts],
                "truth": truth,
            }
        )
        return
    _print_story(location, counts, truth, summary.events_stored)
    _print_detection(alerts, truth)
    _print_ledger(report, settings)


def _verify(store: Store, events: int) -> VerifyReport:
    verifier = load_verifier(public_key_path(store.settings))
    with (
        connect(store.engine) as conn,
        progress_bar("Verifying the ledger", total=max(events, 1), counts=True) as update,
    ):
        return verify_ledger(conn, verifier, progress=update)


def _print_detection(alerts: list[Alert], truth: dict[str, Any]) -> None:
    serious = [a for a in alerts if a.severity in (Severity.HIGH, Severity.CRITICAL)]
    compromised = set(truth.get("compromised_agents", []))
    console.print(
        f"Detection: {len(serious)} agent(s) at high or critical, "
        f"{len({a.agent for a in serious} & compromised)} of {len(compromised)} compromised."
    )
    for alert in serious[:3]:
        verdict = "[red]compromised[/]" if alert.agent in compromised else "no attack simulated"
        console.print(f"  [bold]{alert.agent}[/] {alert.severity.value} ({verdict}):")
        for reason in alert.reasons[:3]:
            console.print(f"    - {reason}", markup=False, highlight=False)
    if serious:
        agent = serious[0].agent
        console.print(
            f"  Next: `vigile incident open --agent {agent} ...`, then "
            f"`vigile blast-radius --agent {agent} --since ... --until ...`"
        )


def _print_ledger(report: VerifyReport, settings: Settings) -> None:
    verdict = "[green]verified[/]" if report.ok else "[bold red]FAILED[/]"
    console.print(
        f"Ledger: {report.entries:,} entries, {report.checkpoints} signed checkpoints, root "
        f"{report.root}, {verdict} against the events (key {public_key_path(settings)})."
    )


def _print_story(location: str, counts: dict[str, int], truth: dict[str, object], new: int) -> None:
    table = Table("table", "rows", box=None)
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(Panel(table, title=f"Embedded store {location}", expand=False))
    console.print(f"{new:,} new events stored.")
    attacks = truth.get("attacks")
    for attack in attacks if isinstance(attacks, list) else []:
        window = attack.get("window", {})
        console.print(
            f"[bold red]Hidden in the log:[/] agent [bold]{attack.get('agent')}[/]'s account "
            f"was taken over ({attack.get('shape')}) from {window.get('start')} to "
            f"{window.get('end')}: {len(attack.get('event_ids', [])):,} attacker events from "
            f"{', '.join(attack.get('addresses', []))}, "
            f"{len(attack.get('customers', [])):,} customers looked at."
        )
        customers = attack.get("customers") or []
        if customers:
            console.print(
                f"  What customer {customers[0]} can see: `vigile transparency {customers[0]}`"
            )
