"""Breach response on the command line: ``vigile blast-radius`` and ``vigile incident``
(open, list, show, note, status, plan, apply, rename, notify, report). Commands translate
arguments and call :mod:`vigile.respond`; no logic here."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path

import orjson
import typer
from rich.table import Table

from vigile.broker import Broker
from vigile.cli.output import Format, console, print_json
from vigile.errors import OutputError
from vigile.model.times import format_rfc3339
from vigile.respond import (
    BlastRadius,
    Delivery,
    Incident,
    Incidents,
    IncidentStatus,
    InvalidScope,
    Notifications,
    PlannedAction,
    RegulatoryClock,
    Remediation,
    Scope,
    blast_radius,
    breach_record,
    parse_time,
    render_html,
    utc_now,
)
from vigile.store import Store

__all__ = ["register"]

FormatOption = typer.Option(Format.TEXT, "--format", help="Output format: text or json.")

incident_app = typer.Typer(
    help="Incidents: open, follow, remediate, notify and report a breach.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``blast-radius`` and the ``incident`` group to ``app``."""
    app.command(name="blast-radius")(blast_radius_command)
    app.add_typer(incident_app, name="incident")


def scope_of(
    agents: list[str],
    sessions: list[str],
    ips: list[str],
    devices: list[str],
    since: str,
    until: str,
) -> Scope:
    """A scope from command-line options (RFC 3339 times, both ends inclusive)."""
    return Scope(
        since=parse_time(since, "--since"),
        until=parse_time(until, "--until"),
        agents=tuple(agents),
        sessions=tuple(sessions),
        ips=tuple(ips),
        devices=tuple(devices),
    )


def blast_radius_command(
    agent: list[str] = typer.Option([], "--agent", help="Agent id (repeatable)."),
    session: list[str] = typer.Option([], "--session", help="Session id (repeatable)."),
    ip: list[str] = typer.Option([], "--ip", help="Source address (repeatable)."),
    device: list[str] = typer.Option([], "--device", help="Device id (repeatable)."),
    since: str = typer.Option(..., "--since", help="RFC 3339 time, inclusive."),
    until: str = typer.Option(..., "--until", help="RFC 3339 time, inclusive."),
    format: Format = FormatOption,
) -> None:
    """Which customers a scope's allowed accesses reached, and what they exposed."""
    scope = scope_of(agent, session, ip, device, since, until)
    with Store.open() as store:
        radius = blast_radius(store, scope)
    if format is Format.JSON:
        print_json(radius.to_json())
    else:
        print_blast_radius(radius)


def print_blast_radius(radius: BlastRadius) -> None:
    """The blast radius as a table and a summary line."""
    table = Table(
        "customer",
        "tier",
        "country",
        "in clear",
        "masked only",
        "first",
        "last",
        "accesses",
        title=f"Blast radius: {radius.summary.customers} customer(s)",
    )
    for c in radius.customers:
        table.add_row(
            c.customer,
            c.tier or "",
            c.country or "",
            " ".join(c.fields),
            " ".join(c.masked_fields),
            format_rfc3339(c.first_access),
            format_rfc3339(c.last_access),
            str(c.accesses),
        )
    console.print(table)
    summary = radius.summary
    tiers = ", ".join(f"{k} {v}" for k, v in summary.by_tier.items())
    categories = ", ".join(f"{k} {v}" for k, v in summary.by_category.items())
    console.print(
        f"{summary.accesses} accesses; by tier: {tiers}; in clear: {categories}", markup=False
    )


def _actor() -> str:
    """Who is acting: the signed-in user, recorded with every action."""
    return os.environ.get("USER") or "analyst"


ActorOption = typer.Option(None, "--actor", help="Who acts (default: $USER).")


@incident_app.command("open")
def incident_open(
    title: str | None = typer.Option(None, "--title", help="What happened, in a line."),
    agent: list[str] = typer.Option([], "--agent", help="Agent id (repeatable)."),
    session: list[str] = typer.Option([], "--session", help="Session id (repeatable)."),
    ip: list[str] = typer.Option([], "--ip", help="Source address (repeatable)."),
    device: list[str] = typer.Option([], "--device", help="Device id (repeatable)."),
    since: str | None = typer.Option(None, "--since", help="RFC 3339 time, inclusive."),
    until: str | None = typer.Option(None, "--until", help="RFC 3339 time, inclusive."),
    owner: str | None = typer.Option(None, "--owner", help="Who handles it."),
    alert: str | None = typer.Option(
        None, "--alert", help="Open from this detection alert (its agent and window)."
    ),
    aware: str | None = typer.Option(None, "--aware", help="Time of awareness (default now)."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """Open an incident over a scope and a window, or from a detection alert."""
    who = actor or _actor()
    by_hand = bool(agent or session or ip or device or since or until)
    with Store.open() as store:
        service = Incidents(store)
        if alert is not None and not by_hand:
            incident = service.open_from_alert(alert, actor=who, title=title, owner=owner)
        else:
            if since is None or until is None or title is None:
                raise InvalidScope("--title, --since and --until are needed (or --alert alone)")
            incident = service.open(
                title=title,
                scope=scope_of(agent, session, ip, device, since, until),
                actor=who,
                owner=owner,
                alert=alert,
                aware=parse_time(aware, "--aware") if aware else None,
            )
    _print_incident(incident, format)


@incident_app.command("list")
def incident_list(
    status: IncidentStatus | None = typer.Option(None, "--status", help="Only this status."),
    format: Format = FormatOption,
) -> None:
    """Every incident, oldest first."""
    with Store.open() as store:
        found = Incidents(store).find(status)
    if format is Format.JSON:
        print_json([i.to_json() for i in found])
        return
    table = Table("id", "status", "owner", "opened", "title", title=f"{len(found)} incident(s)")
    for i in found:
        table.add_row(i.id, i.status.value, i.owner or "", format_rfc3339(i.opened), i.title)
    console.print(table)


@incident_app.command("show")
def incident_show(
    incident_id: str = typer.Argument(..., help="Incident id."),
    format: Format = FormatOption,
) -> None:
    """An incident, its regulatory clock and its timeline."""
    with Store.open() as store:
        service = Incidents(store)
        incident = service.get(incident_id)
        timeline = service.timeline(incident_id)
    clock = RegulatoryClock(aware=incident.aware, now=utc_now(), high_risk=incident.high_risk)
    if format is Format.JSON:
        print_json(
            incident.to_json()
            | {"clock": clock.to_json(), "timeline": [e.to_json() for e in timeline]}
        )
        return
    _print_incident(incident, format)
    console.print(f"GDPR Art. 33 deadline: {clock.to_json()['art33_deadline']}", markup=False)
    table = Table("time", "action", "actor", "customer", "details", title="Timeline")
    for e in timeline:
        details = orjson.dumps(dict(e.details)).decode()
        table.add_row(format_rfc3339(e.time), e.action, e.actor, e.customer or "", details)
    console.print(table)


@incident_app.command("note")
def incident_note(
    incident_id: str = typer.Argument(..., help="Incident id."),
    text: str = typer.Argument(..., help="The note."),
    actor: str | None = ActorOption,
) -> None:
    """Add a note to an incident's timeline."""
    with Store.open() as store:
        entry = Incidents(store).note(incident_id, text, actor or _actor())
    console.print(f"Noted on {incident_id} ({entry.event_id}).", markup=False)


@incident_app.command("status")
def incident_status(
    incident_id: str = typer.Argument(..., help="Incident id."),
    status: IncidentStatus = typer.Argument(..., help="The new status."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """Move an incident to a status (closed is final)."""
    with Store.open() as store:
        incident = Incidents(store).set_status(incident_id, status, actor or _actor())
    _print_incident(incident, format)


@incident_app.command("assign")
def incident_assign(
    incident_id: str = typer.Argument(..., help="Incident id."),
    owner: str = typer.Argument(..., help="Who handles it."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """Give an incident to an owner."""
    with Store.open() as store:
        incident = Incidents(store).assign(incident_id, owner, actor or _actor())
    _print_incident(incident, format)


@incident_app.command("assess")
def incident_assess(
    incident_id: str = typer.Argument(..., help="Incident id."),
    high_risk: bool = typer.Option(
        ..., "--high-risk/--low-risk", help="GDPR Art. 34: is the risk to people high?"
    ),
    reason: str = typer.Option(..., "--reason", help="Why."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """Record the GDPR Art. 34 assessment of an incident."""
    with Store.open() as store:
        incident = Incidents(store).assess(
            incident_id, high_risk=high_risk, reason=reason, actor=actor or _actor()
        )
    _print_incident(incident, format)


def _print_incident(incident: Incident, format: Format) -> None:
    if format is Format.JSON:
        print_json(incident.to_json())
        return
    owner = f", owner {incident.owner}" if incident.owner else ""
    console.print(
        f"{incident.id} [{incident.status.value}{owner}] {incident.title}\n"
        f"scope {orjson.dumps(incident.scope.to_json()).decode()}",
        markup=False,
    )


@incident_app.command("notify")
def incident_notify(
    incident_id: str = typer.Argument(..., help="Incident id."),
    approve: bool = typer.Option(False, "--approve", help="Approve the previewed notices."),
    send: bool = typer.Option(False, "--send", help="Send the approved notices (once)."),
    yes: bool = typer.Option(False, "--yes", help="Send without asking for confirmation."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """Preview (default), approve, or send the customer notifications of an incident."""
    who = actor or _actor()
    with Store.open() as store:
        service = Notifications(Incidents(store))
        if send:
            if not yes:
                typer.confirm(f"Send the approved notifications of {incident_id}?", abort=True)
            deliveries = service.send(incident_id, who)
            result: object = [_delivery_json(d) for d in deliveries]
        elif approve:
            result = {"approved": service.approve(incident_id, who)}
        else:
            preview = service.preview(incident_id, who)
            result = {
                "previews": [
                    {"customer": n.customer, "language": n.language, "path": str(p)}
                    for n, p in zip(preview.notices, preview.paths, strict=True)
                ],
                "unreachable": list(preview.unreachable),
            }
    if format is Format.JSON:
        print_json(result)
    else:
        console.print_json(orjson.dumps(result).decode())


def _delivery_json(delivery: Delivery) -> dict[str, object]:
    return {
        "customer": delivery.customer,
        "language": delivery.language,
        "receipts": list(delivery.receipts),
        "already_sent": delivery.already_sent,
    }


@incident_app.command("plan")
def incident_plan(
    incident_id: str = typer.Argument(..., help="Incident id."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """The remediation actions of an incident, applied or not (recorded on its timeline)."""
    with Store.open() as store:
        actions = Remediation(Incidents(store)).propose(incident_id, actor or _actor())
    _print_actions(actions, format, title=f"Remediation plan of {incident_id}")


@incident_app.command("apply")
def incident_apply(
    incident_id: str = typer.Argument(..., help="Incident id."),
    execute: bool = typer.Option(
        False, "--execute", help="Apply for real (the default is a dry run)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """Apply the plan's automatic actions: a dry run unless --execute; idempotent.

    Suspensions go through the broker's containment: the agent's sessions are revoked and
    its requests denied at once."""
    with Store.open() as store:
        plan = Remediation(Incidents(store)).plan(incident_id)
        pending = [a for a in plan if a.automatic and not a.applied]
        if execute and pending:
            if not yes:
                typer.confirm(f"Apply {len(pending)} action(s) to {incident_id}?", abort=True)
            broker = Broker(store, store.settings)
            try:
                remediation = Remediation(Incidents(store), suspension=broker)
                pending = remediation.apply(incident_id, actor or _actor())
            finally:
                broker.close()
    title = "Applied" if execute else "Dry run: would apply (add --execute)"
    _print_actions(pending, format, title=f"{title}: {len(pending)} action(s)")


@incident_app.command("rename")
def incident_rename(
    incident_id: str = typer.Argument(..., help="Incident id."),
    account: str = typer.Argument(..., help="The account to rename."),
    username: str = typer.Option(..., "--username", help="The new username."),
    email: str | None = typer.Option(None, "--email", help="The new email address."),
    actor: str | None = ActorOption,
    format: Format = FormatOption,
) -> None:
    """Rename an account at its customer's request; its old username is retired."""
    with Store.open() as store:
        rename = Remediation(Incidents(store)).rename(
            incident_id, account, username=username, email=email, actor=actor or _actor()
        )
    result = {
        "account": rename.account,
        "customer": rename.customer,
        "old_username": rename.old_username,
        "new_username": rename.new_username,
        "retired": rename.old_username,
    }
    if format is Format.JSON:
        print_json(result)
    else:
        console.print(
            f"{rename.account}: {rename.old_username} -> {rename.new_username}; "
            f"{rename.old_username} is retired",
            markup=False,
        )


def _print_actions(actions: list[PlannedAction], format: Format, *, title: str) -> None:
    if format is Format.JSON:
        print_json([a.to_json() for a in actions])
        return
    table = Table("action", "customer", "applied", "how", title=title)
    for a in actions:
        how = "apply" if a.automatic else "on the customer's request (incident rename)"
        table.add_row(a.key, a.customer or "", "yes" if a.applied else "no", how)
    console.print(table)


class ReportFormat(StrEnum):
    """How ``vigile incident report`` writes the breach record."""

    JSON = "json"
    HTML = "html"


@incident_app.command("report")
def incident_report(
    incident_id: str = typer.Argument(..., help="Incident id."),
    format: ReportFormat = typer.Option(ReportFormat.JSON, "--format", help="json or html."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file, not stdout."),
    actor: str | None = ActorOption,
) -> None:
    """The breach record (GDPR Art. 33(5)): JSON, or a self-contained HTML report."""
    with Store.open() as store:
        incidents = Incidents(store)
        record = breach_record(incidents, incident_id)
        incidents.record(incident_id, "incident.reported", actor or _actor(), {"format": format})
    text = (
        render_html(record)
        if format is ReportFormat.HTML
        else orjson.dumps(record.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"
    )
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the report: {exc.strerror}") from exc
    console.print(f"Breach record of {incident_id} written to {out}", markup=False)
