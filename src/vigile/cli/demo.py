"""``vigile demo``: the seed incident, end to end, in the embedded store.

Simulates the organisation and the nobelium attack, stores the organisation's events and
replays the attacker's through the access broker, runs detection, opens the incident
(blast radius, notification drafts, remediation plan), verifies the ledger, writes a
self-contained HTML report, then serves the console on loopback (unless ``--no-serve``).
The steps are in :mod:`vigile.demo`; this module runs them with progress bars and prints.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from vigile.api import create_app
from vigile.cli.detect import detection_config
from vigile.cli.output import Format, console, err, print_json, progress_bar
from vigile.cli.serve import run_server
from vigile.console import totp
from vigile.console.accounts import ConsoleAccounts
from vigile.demo import DemoRun, ReplayOutcome, Response, write_report
from vigile.demo.injection import INJECTION, InjectionRun, injection_json, run_injection
from vigile.demo.story import (
    EVENT_TABLES,
    check_unused,
    console_cast,
    detect_alerts,
    first_high,
    plan_replay,
    replay,
    respond,
    run_simulation,
    serious,
    verify,
)
from vigile.detect import Alert
from vigile.errors import InputError
from vigile.ledger.service import public_key_path
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]


class Scenario(StrEnum):
    HIJACK = "hijack"
    PROMPT_INJECTION = "prompt-injection"


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    out: Path = typer.Option(Path("vigile-demo"), help="Folder for the files the demo writes."),
    agents: int = typer.Option(100, min=5, help="Support agents to simulate (10 customers each)."),
    days: int = typer.Option(31, help="Days to simulate, from 2021-05-01 (at least 29)."),
    seed: int = typer.Option(2021, help="Random seed."),
    serve: bool = typer.Option(
        True,
        "--serve/--no-serve",
        help="Serve the console afterwards; --no-serve: only the report.",
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Console port (loopback)."),
    format: Format = typer.Option(Format.TEXT, "--format", help="Output format: text or json."),
    scenario: Scenario = typer.Option(
        Scenario.HIJACK,
        "--scenario",
        help="hijack: the 2021 incident replayed; prompt-injection: an AI support agent "
        "turned by an injected ticket, driven by a scripted MCP client.",
    ),
) -> None:
    """Replay the 2021 incident: a hijacked support agent harvesting billing contacts,
    this time through Vigile's broker; then detect, respond, verify, report and serve.
    With --scenario prompt-injection: an AI agent over MCP, turned by a ticket."""
    # The notification drafts go to the demo's folder, beside its report.
    settings = dataclasses.replace(Settings.from_env(), notify_outbox=str(out / "outbox"))
    if scenario is Scenario.PROMPT_INJECTION:
        _injection(out, settings, format)
        return
    timings: dict[str, float] = {}
    if serve:
        _check_port(port)  # before the work, not after it
    with Store.open(settings, create=True) as store:
        check_unused(store)
        # Drafts of an earlier demo in this folder would mix with this one's (INC-0001 again).
        shutil.rmtree(out / "outbox" / "preview", ignore_errors=True)
        run = _run(store, out, agents=agents, days=days, seed=seed, timings=timings)
        with _timed(timings, "report"):
            write_report(run)
        if format is Format.JSON:
            print_json(run.to_json())
        else:
            _print(run, settings)
        if serve:
            _serve(store, settings, run, port, err if format is Format.JSON else console)


def _injection(out: Path, settings: Settings, format: Format) -> None:
    """The prompt-injection story (:mod:`vigile.demo.injection`) in a store of its own."""
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "prompt-injection"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    settings = dataclasses.replace(
        settings,
        db=str(folder / "vigile.db"),
        ledger_key=str(folder / "ledger.key"),
        broker_token_key=str(folder / "broker.key"),
    )
    title = "The organisation's history, then the AI agent's injected ticket over MCP"
    with (
        Store.open(settings, create=True) as store,
        progress_bar(title, total=1, counts=True) as update,
    ):
        run = run_injection(store, settings, folder, progress=update)
    if format is Format.JSON:
        print_json(injection_json(run))
        return
    _print_injection(run)


def _print_injection(run: InjectionRun) -> None:
    console.print(
        f"[bold]History:[/] {run.history_events:,} simulated events stored (people and AI "
        f"agents at work); then ticket {run.ticket} reaches AI agent [bold]{run.agent}[/] "
        f"(team {run.team}) saying:"
    )
    console.print(f"  {INJECTION}", highlight=False, markup=False)
    for step in run.steps:
        target = str(step.arguments.get("customer", ""))
        line = f"  {step.time:%H:%M:%S} {step.tool:17} {target:8} {step.outcome:8} {step.detail}"
        console.print(line, highlight=False, markup=False)
    console.print(f"Other customers' contacts revealed: {run.revealed_other_customers}")
    high, minutes = run.high, run.minutes_to_high
    if high is None:
        console.print("[bold]Detection:[/] the agent never reached high.")
    else:
        after = "" if minutes is None else f", {minutes:.1f} minutes after the first injected call"
        console.print(f"[bold]Detection:[/] {high.agent} at {high.severity.value}{after}:")
        for reason in high.reasons:
            console.print(f"    - {reason}", highlight=False, markup=False)
    contained = ", ".join(run.contained) or "nobody"
    console.print(f"[bold]Containment:[/] sessions of {contained} suspended.")
    if run.after_containment is not None:
        step = run.after_containment
        console.print(
            f"  next call: {step.tool} {step.outcome}: {step.detail}", highlight=False, markup=False
        )
    if run.watched:
        console.print(f"Customer {run.watched}'s access log:")
        for line in run.customer_log:
            console.print(f"  {line}", highlight=False, markup=False)


def _run(
    store: Store, out: Path, *, agents: int, days: int, seed: int, timings: dict[str, float]
) -> DemoRun:
    out.mkdir(parents=True, exist_ok=True)
    with _phase(timings, "simulate", "Simulating the support organisation", days) as update:
        result, truth = run_simulation(out, agents=agents, days=days, seed=seed, progress=update)
    agent = truth["attacks"][0]["agent"]
    # The segments are scratch copies of the log, removed once stored.
    with tempfile.TemporaryDirectory(prefix=".replay-", dir=out) as scratch:
        with _phase(timings, "split", "Separating the attacker's events", 1):
            plan = plan_replay(result, truth, Path(scratch))
        title = "Storing the organisation's events, replaying the attacker through the broker"
        total = plan.benign_events + plan.attacker_events
        with _phase(timings, "store and replay", title, total, counts=True) as update:
            outcome = replay(store, plan, agent, update, timings)
    config = detection_config(store.settings)
    with _phase(timings, "detect", "Detecting hijacked accounts", 1):
        alerts = detect_alerts(store, config)
    with _phase(timings, "stream", "Replaying streaming detection for the time to detect", 1):
        high = first_high(store, config, agent)
    response = None
    if serious(alerts):
        with _phase(timings, "respond", "Opening the incident, drafting, planning", 1):
            response = respond(store, serious(alerts)[0], outcome)
    tables = store.counts()
    entries = sum(tables.get(name, 0) for name in EVENT_TABLES)
    with _phase(timings, "verify", "Verifying the ledger", entries, counts=True) as update:
        ledger = verify(store, update)
    return DemoRun(
        store=store.location,
        out=out,
        tables=tables,
        truth=truth,
        outcome=outcome,
        alerts=tuple(alerts),
        first_high_us=high,
        response=response,
        ledger=ledger,
        timings=timings,
        report=out / "report.html",
    )


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    timings[name] = 0.0  # in the order the steps start
    yield
    timings[name] = time.perf_counter() - started


@contextmanager
def _phase(
    timings: dict[str, float], name: str, title: str, total: float, *, counts: bool = False
) -> Iterator[Any]:
    with _timed(timings, name), progress_bar(title, total=total, counts=counts) as update:
        yield update


# -- printing ---------------------------------------------------------------------------


def _print(run: DemoRun, settings: Settings) -> None:
    _print_story(run)
    _print_broker(run.outcome)
    _print_detection(list(run.alerts), set(run.compromised))
    if run.minutes_to_detect is not None:
        console.print(
            f"  Streaming detection (as `vigile detect --follow` during the attack) put "
            f"{run.outcome.agent} at high {run.minutes_to_detect:.0f} minutes after the "
            "attacker's first sign-in."
        )
    if run.response is not None:
        _print_response(run.response)
    _print_ledger(run, settings)
    seconds = ", ".join(f"{k} {v:.0f}s" for k, v in run.timings.items())
    console.print(f"Report: [bold]{run.report}[/] (one self-contained page). Took {seconds}.")


def _print_story(run: DemoRun) -> None:
    table = Table("table", "rows", box=None)
    for name, count in run.tables.items():
        table.add_row(name, f"{count:,}")
    console.print(Panel(table, title=f"Embedded store {run.store}", expand=False))
    for attack in run.truth.get("attacks", []):
        window = attack.get("window", {})
        console.print(
            f"[bold red]The attack:[/] agent [bold]{attack.get('agent')}[/]'s credentials, "
            f"stolen, used from {', '.join(attack.get('addresses', []))} from "
            f"{window.get('start')} to {window.get('end')}: {attack.get('events', 0):,} "
            "events, replayed through the broker at their times."
        )


def _print_broker(outcome: ReplayOutcome) -> None:
    console.print(
        f"[bold]The broker:[/] {outcome.signins_accepted} sign-ins accepted (push MFA beaten), "
        f"{outcome.signins_refused} refused; {outcome.requests:,} requests: "
        f"{outcome.allowed_masked:,} allowed masked, {outcome.revealed:,} revealed in clear, "
        f"[green]{outcome.denied:,} denied[/]."
    )
    for reason, count in outcome.deny_reasons[:3]:
        console.print(f"  {count:>6,} denied: {reason}", markup=False, highlight=False)


def _print_detection(alerts: list[Alert], compromised: set[str]) -> None:
    found = serious(alerts)
    console.print(
        f"[bold]Detection:[/] {len(found)} agent(s) at high or critical, "
        f"{len({a.agent for a in found} & compromised)} of {len(compromised)} compromised."
    )
    for alert in found[:3]:
        verdict = "[red]hijacked[/]" if alert.agent in compromised else "no attack simulated"
        console.print(f"  [bold]{alert.agent}[/] {alert.severity.value} ({verdict}):")
        for reason in alert.reasons[:4]:
            console.print(f"    - {reason}", markup=False, highlight=False)


def _print_response(response: Response) -> None:
    incident, summary = response.incident, response.radius.summary
    tiers = ", ".join(f"{k} {v}" for k, v in summary.by_tier.items())
    fields = ", ".join(summary.by_field) or "nothing"
    console.print(
        f"[bold]Incident {incident.id}[/] opened from alert {incident.alert}, scoped to "
        f"{', '.join(incident.scope.ips) or 'the whole account'}: {summary.customers} "
        f"customers reached ({tiers}); seen in clear: {fields}. The whole account: "
        f"{response.whole_radius.summary.customers} customers."
    )
    languages = ", ".join(f"{v} in {k}" for k, v in response.languages().items())
    folder = response.previews[0].path.parent if response.previews else "-"
    console.print(
        f"  {len(response.previews)} notifications drafted ({languages}) in {folder}; none sent."
    )
    kinds: dict[str, int] = {}
    for action in response.plan:
        kinds[action.kind.value] = kinds.get(action.kind.value, 0) + 1
    plan = ", ".join(f"{v} {k}" for k, v in kinds.items())
    console.print(f"  Remediation planned, not applied: {plan}.")
    checked = response.phishing
    if checked is not None:
        phishing = sum(m.kind == "phishing" for m in checked.messages)
        genuine = sum(m.kind == "genuine" for m in checked.messages)
        console.print(
            f"  After the leak: {checked.caught} of {phishing} phishing messages to the "
            f"{checked.watched} watched addresses flagged; {checked.passed} of {genuine} "
            "genuine notification passed (reasons in the report)."
        )


def _print_ledger(run: DemoRun, settings: Settings) -> None:
    report = run.ledger
    verdict = "[green]verified[/]" if report.ok else f"[bold red]FAILED[/]: {report.problem}"
    console.print(
        f"[bold]Ledger:[/] {report.entries:,} entries, {report.checkpoints} signed checkpoints, "
        f"{verdict} against the events (key {public_key_path(settings)})."
    )


# -- serving ------------------------------------------------------------------------------


def _check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise InputError(
                f"port {port} on 127.0.0.1 is taken ({exc.strerror}): choose another with "
                "--port, or --no-serve"
            ) from exc


def _serve(store: Store, settings: Settings, run: DemoRun, port: int, out: Console) -> None:
    accounts = _console_accounts(store, run)
    out.print(
        f"\n[bold]Console:[/] http://127.0.0.1:{port}/console/  (loopback only; Ctrl-C stops)"
    )
    for account in accounts:
        out.print(f"  {account}", markup=False, highlight=False, soft_wrap=True)
    run_server(
        create_app(settings, store=store),
        settings,
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )


def _console_accounts(store: Store, run: DemoRun) -> list[str]:
    """One console account per role, with random passwords, as lines to print: an
    analyst; an honest agent with a ticket just opened; the customer of that ticket, one
    the attacker asked about. The analyst and the agent act through the broker, which
    wants a second factor: they get a TOTP secret to enrol in an authenticator app."""
    cast = console_cast(store, run.truth, datetime.now(UTC))
    wanted = [("analyst", "analyst", "demo-analyst", "alerts, incidents, ledger")]
    if cast.agent:
        what = f"ticket {cast.ticket} of {cast.customer}, open"
        wanted.append(("agent", f"agent-{cast.agent}", cast.agent, what))
    if cast.customer:
        what = "who accessed its data: the attacker's denied requests included"
        wanted.append(("customer", f"customer-{cast.customer}", cast.customer, what))
    book = ConsoleAccounts(store)
    lines = []
    for role, username, subject, what in wanted:
        password = secrets.token_urlsafe(12)
        account = book.add(
            username, role=role, subject=subject, password=password, mfa=role != "customer"
        )
        lines.append(f"{role:<9} {username}  password {password}  ({what})")
        if account.totp_secret:
            lines.append(f"          TOTP: {totp.otpauth_uri(account.totp_secret, username)}")
    return lines
