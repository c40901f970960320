"""Breach response on the command line: ``vigile blast-radius`` and ``vigile incident``
(open, list, show, note, status, plan, apply, rename, notify, report). Commands translate
arguments and call :mod:`vigile.respond`; no logic here."""

from __future__ import annotations

import typer
from rich.table import Table

from vigile.cli.output import Format, console, print_json
from vigile.model.times import format_rfc3339
from vigile.respond import BlastRadius, Scope, blast_radius, parse_time
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
