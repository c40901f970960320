"""Phishing after a breach on the command line: ``vigile phishing watchlist`` and
``vigile mail check``. Commands translate arguments and call :mod:`vigile.phishing`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import orjson
import typer
from rich.table import Table

from vigile.cli.output import console
from vigile.errors import OutputError
from vigile.phishing import WatchList, build_watchlist
from vigile.respond import Incidents
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


def register(app: typer.Typer) -> None:
    """Add the ``phishing`` group to ``app``."""
    app.add_typer(phishing_app, name="phishing")


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
