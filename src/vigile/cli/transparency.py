"""Access transparency on the command line: ``vigile transparency``, ``vigile
customer-token``, and ``vigile serve`` (the HTTP API customers use, in
:mod:`vigile.cli.serve`), registered together."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer
from rich.table import Table
from rich.text import Text

from vigile.cli import serve
from vigile.cli.output import Format, console, print_json
from vigile.model.times import format_rfc3339
from vigile.store import Store
from vigile.transparency import (
    AccessEntry,
    AccessListing,
    IssuedToken,
    Transparency,
    listing_csv,
    listing_json,
    listing_ocsf,
    parse_window,
)

__all__ = ["register"]


class ListingFormat(StrEnum):
    """How ``vigile transparency`` prints a listing."""

    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    OCSF = "ocsf"


def register(app: typer.Typer) -> None:
    app.command(name="transparency")(transparency_command)
    app.command(name="customer-token")(customer_token)
    serve.register(app)


def transparency_command(
    customer_id: str = typer.Argument(..., help="The customer whose accesses to list."),
    since: str | None = typer.Option(None, "--since", help="RFC 3339 time, inclusive."),
    until: str | None = typer.Option(None, "--until", help="RFC 3339 time, inclusive."),
    format: ListingFormat = typer.Option(
        ListingFormat.TEXT, "--format", help="text, json, csv or ocsf (API Activity events)."
    ),
) -> None:
    """Every access to a customer's data, as the customer sees it, with proofs."""
    start, end = parse_window(since, until)
    with Store.open() as store:
        listing = Transparency(store).accesses(customer_id, since=start, until=end)
    if format is ListingFormat.JSON:
        print_json(listing_json(listing))
    elif format is ListingFormat.OCSF:
        print_json(listing_ocsf(listing))
    elif format is ListingFormat.CSV:
        sys.stdout.write(listing_csv(listing))
    else:
        _print_listing(listing)


def _print_listing(listing: AccessListing) -> None:
    table = Table(
        "time",
        "event",
        "agent",
        "action",
        "in clear",
        "masked",
        "object",
        "justification",
        "outcome",
        "proof",
        title=f"Accesses to {listing.customer}: {len(listing.entries)}",
        caption=f"proofs against the checkpoint of tree size {listing.tree_size:,}",
    )
    for entry in listing.entries:
        table.add_row(*_cells(entry))
    console.print(table)


def _cells(entry: AccessEntry) -> list[Text]:
    # Text, not markup: the values come from the log and may hold square brackets.
    parts = (entry.agent, entry.agent_kind, entry.agent_employer, entry.agent_country)
    agent = " ".join(v for v in parts if v)
    reason = entry.reason.value if entry.reason else ""
    given = entry.ticket or (f"incident {entry.incident}" if entry.incident else "")
    justification = f"{reason} {given}" if given else reason
    outcome = Text(entry.outcome, style="green" if entry.outcome == "allowed" else "red")
    if entry.deny_reason:
        outcome.append(f": {entry.deny_reason}")
    proof = f"{entry.proof.status.value} #{entry.proof.leaf_index}"
    return [
        Text(format_rfc3339(entry.time)),
        Text(entry.event_id),
        Text(agent),
        Text(entry.action.value),
        Text(" ".join(entry.fields)),
        Text(" ".join(entry.masked_fields)),
        Text(entry.object or ""),
        Text(justification),
        outcome,
        Text(proof),
    ]


def customer_token(
    customer_id: str = typer.Argument(..., help="The customer the token is for."),
    revoke_all: bool = typer.Option(
        False, "--revoke-all", help="Revoke every token of the customer instead."
    ),
    format: Format = typer.Option(Format.TEXT, "--format", help="Output format: text or json."),
) -> None:
    """Issue an API token for a customer (printed once), or revoke its tokens."""
    with Store.open() as store:
        service = Transparency(store)
        if revoke_all:
            revoked = service.revoke_tokens(customer_id)
        else:
            issued = service.issue_token(customer_id)
    if revoke_all:
        _print_revoked(customer_id, revoked, format)
    else:
        _print_issued(issued, format)


def _print_issued(issued: IssuedToken, format: Format) -> None:
    if format is Format.JSON:
        print_json(
            {
                "customer": issued.customer,
                "token": issued.token,
                "token_id": issued.token_id,
                "created": format_rfc3339(issued.created),
            }
        )
        return
    console.print(
        f"Token {issued.token_id} for customer {issued.customer}. It is shown only now; "
        "give it to the customer over a trusted channel:",
        markup=False,
    )
    console.print(issued.token, markup=False, highlight=False, soft_wrap=True)


def _print_revoked(customer_id: str, revoked: int, format: Format) -> None:
    if format is Format.JSON:
        print_json({"customer": customer_id, "revoked": revoked})
    else:
        console.print(f"Revoked {revoked} token(s) of customer {customer_id}.", markup=False)
