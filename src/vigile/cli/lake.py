"""The event lake on the command line: ``vigile lake export`` and ``vigile lake check``."""

from __future__ import annotations

import typer

from vigile.cli.output import Format, console, print_json, progress_bar
from vigile.lake import check_lake, export_lake
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]

FormatOption = typer.Option(Format.TEXT, "--format", help="Output format: text or json.")

lake_app = typer.Typer(
    help="The event lake: the store's events as Parquet, proven by the ledger.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(lake_app, name="lake")
    lake_app.command(name="export")(lake_export)
    lake_app.command(name="check")(lake_check)


def lake_export(
    out: str = typer.Option(
        ..., "--out", help="The lake: a folder, or a URL (file://, s3://, gs://, hdfs://...)."
    ),
    window: int = typer.Option(
        1_000_000, "--window", min=1, help="Leaves per export window (rows per part at most)."
    ),
    format: Format = FormatOption,
) -> None:
    """Write the events integrated in the ledger since the last export to the lake."""
    with Store.open(Settings.from_env()) as store, progress_bar("Exporting", total=1) as update:
        done = export_lake(store.engine, out, window=window, progress=update)
    if format is Format.JSON:
        print_json(done.as_json())
        return
    rate = done.events / done.seconds if done.seconds else 0.0
    console.print(
        f"Exported {done.events:,} events in {done.parts:,} parts to {done.location} "
        f"({rate:,.0f} events/s); leaves 0 to {done.exported_upto - 1:,} are in the lake",
        highlight=False,
    )
    if done.removed:
        console.print(f"Removed {done.removed:,} parts of an interrupted export.")
    if done.waiting:
        console.print(
            f"{done.waiting:,} events wait for their ledger leaf: the next export takes them."
        )


def lake_check(
    location: str = typer.Argument(..., help="The lake: a folder or a URL."),
    format: Format = FormatOption,
) -> None:
    """Recompute the leaf hash of every row of the lake and check it against the ledger."""
    with Store.open(Settings.from_env()) as store, progress_bar("Checking", total=1) as update:
        report = check_lake(store.engine, location, progress=update)
    if format is Format.JSON:
        print_json(report.as_json())
    elif report.ok:
        console.print(
            f"The lake matches the ledger: {report.rows:,} rows in {report.parts:,} parts, "
            f"leaves 0 to {report.exported_upto - 1:,}",
            highlight=False,
        )
    else:
        for problem in report.problems:
            console.print(problem, style="red", highlight=False, markup=False)
        if report.more_problems:
            console.print(f"... and {report.more_problems:,} more problems", highlight=False)
    if not report.ok:
        raise typer.Exit(1)
