"""Commands that build, load and write out the store: init, ingest, simulate, stats, export."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from vigile.cli.output import Format, console, print_json, progress_bar
from vigile.errors import InputError
from vigile.export import ExportFormat, ExportSummary, export_store, parse_window
from vigile.ingest import IngestSummary, ingest_file
from vigile.settings import Settings
from vigile.simulate import SCENARIOS, SimulationConfig, simulate
from vigile.simulate.vendors import VENDORS, VendorFiles, parse_vendors, write_vendor_logs
from vigile.sources import import_directory, source_named, source_names
from vigile.store import Store

__all__ = ["register"]

FormatOption = typer.Option(Format.TEXT, "--format", help="Output format: text or json.")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(ingest)
    app.command(name="simulate")(simulate_command)
    app.command()(stats)
    app.command(name="export")(export_command)
    directory = typer.Typer(help="The directory: agents, customers and their vendor ids.")
    directory.command(name="import")(directory_import)
    app.add_typer(directory, name="directory")


def init(format: Format = FormatOption) -> None:
    """Create the store named by VIGILE_DB (default ./vigile.db), or migrate it."""
    with Store.open(create=True) as store:
        location = store.location
    if format is Format.JSON:
        print_json({"store": location, "status": "ready"})
    else:
        console.print(f"Store ready: {location}")


def ingest(
    files: list[Path] = typer.Argument(..., help="Activity logs, or the source's logs."),
    source: str = typer.Option(
        "vigile",
        "--from",
        help="What the files are: vigile (activity log, .jsonl or .jsonl.gz) or a vendor's "
        "log: " + ", ".join(source_names()) + ".",
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Skip and count invalid lines instead of storing nothing."
    ),
    format: Format = FormatOption,
) -> None:
    """Store logs, one transaction per file: all or nothing, and nothing twice."""
    reader = None if source == "vigile" else source_named(source)
    settings = Settings.from_env()
    summaries: list[IngestSummary] = []
    with Store.open(settings, create=True) as store:
        for file in files:
            with progress_bar(f"Ingesting {file.name}", total=1) as update:
                summaries.append(
                    ingest_file(
                        store, file, skip_invalid=skip_invalid, progress=update, source=reader
                    )
                )
            if format is Format.TEXT:
                _print_ingest(summaries[-1], store.location)
        location = store.location
    if format is Format.JSON and len(summaries) == 1:
        print_json({"store": location, **asdict(summaries[0])})
    elif format is Format.JSON:
        print_json({"store": location, "files": [asdict(s) for s in summaries]})


def _print_ingest(summary: IngestSummary, location: str) -> None:
    rate = summary.records / summary.seconds if summary.seconds else 0.0
    console.print(
        f"Ingested [bold]{summary.source}[/] into {location}: {summary.records:,} records "
        f"in {summary.seconds:.1f} s ({rate:,.0f}/s)"
    )
    table = Table("kind", "stored", "upserted", box=None)
    for kind in sorted(set(summary.stored) | set(summary.upserted)):
        table.add_row(
            kind, f"{summary.stored.get(kind, 0):,}", f"{summary.upserted.get(kind, 0):,}"
        )
    console.print(table)
    if summary.reordered:
        console.print("The file was not in time order: its events were stored in time order.")
    if summary.duplicates:
        console.print(f"{summary.duplicates:,} events were already stored and were skipped.")
    if summary.skipped:
        console.print(f"[yellow]{summary.skipped:,} invalid lines skipped[/], first ones:")
        for error in summary.errors:
            console.print(f"  {error}", highlight=False, markup=False)
    _print_unmapped(summary)


def _print_unmapped(summary: IngestSummary) -> None:
    if summary.unsupported:
        counts = ", ".join(f"{kind} {n:,}" for kind, n in summary.unsupported.items())
        console.print(f"Not read (types Vigile does not map): {counts}", highlight=False)
    for reason, count in summary.unmapped.items():
        console.print(f"[yellow]{count:,} kept aside[/]: {reason}; for example:")
        for example in summary.unmapped_examples.get(reason, ()):
            console.print(f"  {example}", highlight=False, markup=False)
    for reason, count in summary.lost.items():
        console.print(
            f"[yellow]{count:,} records with a field left empty[/]: {reason}; for example:"
        )
        for example in summary.lost_examples.get(reason, ()):
            console.print(f"  {example}", highlight=False, markup=False)


def directory_import(
    file: Path = typer.Argument(..., help="Directory file (.csv, or .jsonl)."),
    format: Format = FormatOption,
) -> None:
    """Load agents, customers, contacts and accounts with their ids in Okta, Entra, Zendesk
    and Salesforce."""
    with Store.open(create=True) as store:
        done = import_directory(store, file)
        location = store.location
    if format is Format.JSON:
        print_json({"store": location, **asdict(done)})
    else:
        console.print(
            f"Imported {done.source} into {location}: {done.agents:,} agents, "
            f"{done.customers:,} customers, {done.contacts:,} contacts, "
            f"{done.accounts:,} accounts, {done.identities:,} vendor ids"
        )


def simulate_command(
    scenario: str = typer.Option("baseline", help="Scenario: " + ", ".join(SCENARIOS) + "."),
    seed: int = typer.Option(1, help="Random seed: the same seed gives the same files."),
    days: int = typer.Option(30, help="Days to simulate."),
    agents: int = typer.Option(200, help="Support agents."),
    customers: int | None = typer.Option(None, help="Customers (default: 10 per agent)."),
    start: str = typer.Option("2021-05-01", help="First simulated day (YYYY-MM-DD)."),
    ai_agents: int = typer.Option(
        0, help="AI support agents working through vigile mcp (scenario prompt-injection: 3+)."
    ),
    out: Path = typer.Option(..., help="Folder for activity.jsonl and truth.json."),
    as_vendors: str | None = typer.Option(
        None,
        "--as",
        help="Also write the organisation as these vendors' logs and the directory file "
        "(comma-separated: " + ", ".join(VENDORS) + ").",
    ),
    format: Format = FormatOption,
) -> None:
    """Simulate a support organisation (and an attack) as an activity log."""
    vendors = parse_vendors(as_vendors) if as_vendors is not None else ()
    config = SimulationConfig(
        scenario=scenario,
        seed=seed,
        days=days,
        agents=agents,
        customers=customers if customers is not None else agents * 10,
        start=_date(start, "--start"),
        ai_agents=ai_agents,
    )
    with progress_bar(f"Simulating {scenario}", total=1) as update:
        result = simulate(config, out, progress=update)
    files = write_vendor_logs(result.path, out, vendors) if vendors else None
    if format is Format.JSON:
        print_json(
            {
                "activity": str(result.path),
                "truth": str(result.truth_path),
                "records": result.records,
                "events": result.events,
                **({} if files is None else {"vendors": _vendor_json(files)}),
            }
        )
        return
    console.print(
        f"Wrote {result.records:,} records ({result.events:,} events) to {result.path}"
        f" and the ground truth to {result.truth_path}"
    )
    if files is not None:
        for vendor in vendors:
            console.print(
                f"As {vendor}: {files.written.get(vendor, 0):,} records in "
                f"{len(files.paths(vendor)):,} files, one folder a day under {out / 'vendors'}"
            )
        console.print(f"The directory file: {files.directory}")
        for kind, count in files.not_written.items():
            console.print(
                f"[yellow]{count:,} {kind} records[/] are held by none of these vendors: "
                "not written"
            )


def _vendor_json(files: VendorFiles) -> dict[str, object]:
    return {
        "directory": str(files.directory),
        "files": [{"source": vendor, "path": str(path)} for vendor, path in files.files],
        "written": dict(files.written),
        "not_written": dict(files.not_written),
    }


def stats(format: Format = FormatOption) -> None:
    """Count what the store holds."""
    with Store.open() as store:
        counts, location = store.counts(), store.location
    if format is Format.JSON:
        print_json({"store": location, "tables": counts})
        return
    table = Table("table", "rows", box=None, title=location)
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def export_command(
    out: Path = typer.Option(..., "--out", help="File to write (.gz: gzip-compressed)."),
    format: ExportFormat = typer.Option(
        ExportFormat.ACTIVITY_LOG, "--format", help="activity-log (the spec) or ocsf."
    ),
    since: str | None = typer.Option(None, "--since", help="RFC 3339 time, inclusive."),
    until: str | None = typer.Option(None, "--until", help="RFC 3339 time, inclusive."),
    summary: Format = typer.Option(
        Format.TEXT, "--summary", help="How to report what was written: text or json."
    ),
) -> None:
    """Write the store's records out, as the activity-log spec or as OCSF events."""
    start, end = parse_window(since, until)
    with (
        Store.open() as store,
        progress_bar(f"Exporting to {out.name}", total=1, counts=True) as update,
    ):
        result = export_store(store, out, format=format, since=start, until=end, progress=update)
    if summary is Format.JSON:
        print_json(asdict(result))
    else:
        _print_export(result)


def _print_export(result: ExportSummary) -> None:
    console.print(
        f"Exported {result.events:,} events ({result.records:,} records) to {result.out}"
        f" as {result.format}"
    )
    if result.skipped:
        console.print(f"{result.skipped:,} ticket steps have no OCSF class and were left out.")


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None
