"""Phishing after a breach on the command line: ``vigile phishing watchlist`` and
``vigile mail check``. Commands translate arguments and call :mod:`vigile.phishing`."""

from __future__ import annotations

import hashlib
import secrets
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from vigile.cli.output import Format, console, print_json
from vigile.errors import OutputError
from vigile.phishing import FoundMessage, Guard, WatchList, build_watchlist, read_messages
from vigile.respond import Incidents
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]

phishing_app = typer.Typer(
    help="Phishing after a breach: the watch list of exposed addresses.", no_args_is_help=True
)


class WatchFormat(StrEnum):
    """How the watch list is printed."""

    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    FEED = "feed"


mail_app = typer.Typer(help="Mail: check messages for phishing.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``phishing`` and ``mail`` groups to ``app``."""
    app.add_typer(phishing_app, name="phishing")
    app.add_typer(mail_app, name="mail")


@mail_app.command("gateway-token")
def gateway_token() -> None:
    """Make a credential for the mail gateway; prints it and the SHA-256 to set as
    VIGILE_PHISH_GATEWAY_TOKEN (only the hash is kept)."""
    credential = "vgmg_" + secrets.token_urlsafe(32)
    typer.echo(f"credential: {credential}")
    typer.echo(f"VIGILE_PHISH_GATEWAY_TOKEN={hashlib.sha256(credential.encode()).hexdigest()}")


@mail_app.command("check")
def mail_check(
    files: list[Path] = typer.Argument(..., help=".eml files, mbox files, Maildir folders."),
    incident: list[str] = typer.Option(
        [], "--incident", help="Watch the addresses of these incidents (default: every one)."
    ),
    rcpt: list[str] = typer.Option([], "--rcpt", help="Envelope recipient (repeatable)."),
    format: Format = typer.Option(Format.TEXT, "--format", help="Output format: text or json."),
) -> None:
    """Check messages for phishing aimed at the exposed contacts; explain each verdict."""
    settings = Settings.from_env()
    with Store.open(settings) as store:
        incidents = Incidents(store)
        chosen = incident or [i.id for i in incidents.find()]
        watchlist = build_watchlist(incidents, chosen) if chosen else None
    guard = Guard.from_settings(settings, watchlist)
    results = [_checked(found, guard, rcpt) for path in files for found in read_messages(path)]
    if format is Format.JSON:
        print_json({"messages": results})
    else:
        for result in results:
            _print_verdict(result)


def _checked(found: FoundMessage, guard: Guard, rcpt: list[str]) -> dict[str, Any]:
    if found.raw is None:
        return {"where": found.where, "error": found.error}
    return {"where": found.where} | guard.check(found.raw, recipients=rcpt).to_json()


_COLOURS = {"phishing": "bold red", "suspicious": "yellow", "clean": "green"}


def _print_verdict(result: dict[str, Any]) -> None:
    where = escape(result["where"])
    if "error" in result:
        console.print(f"[bold red]error[/] {where}: {escape(result['error'])}")
        return
    colour = _COLOURS[result["verdict"]]
    subject = escape(result["subject"])
    console.print(f"[{colour}]{result['verdict']}[/] ({result['score']}) {where}: {subject}")
    for signal in result["signals"]:
        console.print(f"  {signal['weight']:+d} {escape(signal['reason'])}", highlight=False)


@phishing_app.command("watchlist")
def watchlist(
    incidents: list[str] = typer.Argument(..., help="Incident ids (INC-0001 ...)."),
    format: WatchFormat = typer.Option(
        WatchFormat.TEXT, "--format", help="text, json, csv, or feed (a mail gateway's map)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file (default: standard output)."
    ),
) -> None:
    """The addresses the incidents exposed, with what the attacker saw about each."""
    if format is WatchFormat.TEXT and output is not None:
        raise typer.BadParameter("--output needs --format json, csv or feed", param_hint="-o")
    with Store.open() as store:
        found = build_watchlist(Incidents(store), incidents)
    if format is WatchFormat.TEXT:
        _print(found)
    else:
        _write(_RENDER[format](found), output)


_RENDER = {
    WatchFormat.JSON: lambda w: (
        orjson.dumps(w.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"
    ),
    WatchFormat.CSV: WatchList.to_csv,
    WatchFormat.FEED: WatchList.to_feed,
}


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise OutputError(f"{output}: cannot write: {exc.strerror}") from exc


def _print(found: WatchList) -> None:
    table = Table(
        "address",
        "status",
        "customer",
        "exposed",
        "seen in clear",
        "name",
        "subscriptions",
        title=f"Watch list: {len(found)} address(es) from {', '.join(found.incidents)}",
    )
    for entry in found:
        status = entry.status + (f" -> {entry.current_address}" if entry.current_address else "")
        table.add_row(
            entry.address,
            status,
            entry.customer,
            entry.exposed.date().isoformat(),
            ", ".join(sorted({f.split(".")[0] for f in entry.fields})),
            entry.name or "",
            "; ".join(s.describe() for s in entry.subscriptions),
        )
    console.print(table)
