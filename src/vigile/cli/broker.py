"""``vigile broker``: the access broker on the command line: agent and integration
credentials, policy checks, grants, and containment by an analyst."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from vigile.broker import ROLES, Broker, Grant, GrantStatus, LocalTokens
from vigile.cli.output import Format, console, print_json
from vigile.model.times import format_rfc3339
from vigile.policy import PolicyEngine
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]

broker_app = typer.Typer(
    name="broker",
    help="The access broker: tokens, policies, grants, containment.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(broker_app)


@broker_app.command("token")
def token(
    agent: str = typer.Argument(..., help="The agent's id, as in the directory."),
    role: list[str] = typer.Option(
        ["agent"], "--role", help=f"Role(s): {', '.join(sorted(ROLES))}; repeatable."
    ),
    mfa: str = typer.Option(
        "totp", "--mfa", help="Second factor of this sign-in: totp, push, webauthn or none."
    ),
) -> None:
    """Issue a local bearer token (embedded mode) and print it."""
    settings = Settings.from_env()
    issued = LocalTokens(settings).issue(
        agent, roles=frozenset(role), mfa=None if mfa == "none" else mfa, now=datetime.now(UTC)
    )
    typer.echo(issued)


@broker_app.command("integration-token")
def integration_token() -> None:
    """Make a credential for the ticketing system; prints it and the SHA-256 to set as
    VIGILE_BROKER_INTEGRATION_TOKEN (only the hash is kept)."""
    credential = "vgit_" + secrets.token_urlsafe(32)
    typer.echo(f"credential: {credential}")
    typer.echo(f"VIGILE_BROKER_INTEGRATION_TOKEN={hashlib.sha256(credential.encode()).hexdigest()}")


@broker_app.command("check")
def check(
    folder: Path | None = typer.Argument(
        None, help="A folder of custom policies (default: VIGILE_BROKER_POLICIES)."
    ),
) -> None:
    """Validate the default and custom policies against the schema; list them."""
    configured = Settings.from_env().broker_policies
    engine = PolicyEngine.load(folder or (Path(configured) if configured else None))
    for name in engine.names:
        console.print(name, highlight=False)
    console.print(f"[green]{len(engine.names)} policies valid[/]")


@broker_app.command("grants")
def grants(
    agent: str | None = typer.Option(None, "--agent", help="Only this agent's grants."),
    customer: str | None = typer.Option(None, "--customer", help="Only this customer's."),
    status: GrantStatus | None = typer.Option(
        None, "--status", help="Only grants in this state (pending: those waiting for approval)."
    ),
    format: Format = typer.Option(Format.TEXT, "--format", help="text or json."),
) -> None:
    """Every grant (history is kept forever), oldest first; approvers find the ones
    waiting for them with --status pending."""
    settings = Settings.from_env()
    with Store.open(settings) as store:
        broker = Broker(store, settings)
        try:
            broker.grants.sweep(broker.clock(), force=True)  # unattended ones expire first
            found = broker.grants.history(agent=agent, customer=customer, status=status)
        finally:
            broker.close()
    if format is Format.JSON:
        print_json([_grant_json(g) for g in found])
        return
    table = Table("grant", "agent", "customer", "classes", "status", "expires", "decided by")
    for g in found:
        expires = format_rfc3339(g.expires) if g.expires else ""
        table.add_row(
            g.id, g.agent, g.customer, ",".join(g.classes), g.status, expires, g.decided_by or ""
        )
    console.print(table)


def _grant_json(grant: Grant) -> dict[str, object]:
    return {
        "id": grant.id,
        "agent": grant.agent,
        "customer": grant.customer,
        "classes": list(grant.classes),
        "status": grant.status.value,
        "reason": grant.reason,
        "ticket": grant.ticket,
        "lockbox": grant.lockbox,
        "customer_approved": grant.customer_approved,
        "requested": format_rfc3339(grant.requested),
        "starts": format_rfc3339(grant.starts) if grant.starts else None,
        "expires": format_rfc3339(grant.expires) if grant.expires else None,
    }


@broker_app.command("suspend")
def suspend(
    agent: str = typer.Argument(..., help="The agent to suspend."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the ledger)."),
    analyst: str = typer.Option(..., "--analyst", help="Who decides (recorded)."),
) -> None:
    """Suspend an agent: every session revoked, every request denied, its grants revoked."""
    settings = Settings.from_env()
    with Store.open(settings) as store:
        broker = Broker(store, settings)
        outcome = broker.suspend(agent, reason, actor=analyst)
        broker.close()
    console.print(f"{agent}: {outcome}", highlight=False)


@broker_app.command("resume")
def resume(
    agent: str = typer.Argument(..., help="The agent to resume."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the ledger)."),
    analyst: str = typer.Option(..., "--analyst", help="Who decides (recorded)."),
) -> None:
    """Lift an agent's suspension (it signs in again)."""
    settings = Settings.from_env()
    with Store.open(settings) as store:
        broker = Broker(store, settings)
        done = broker.containment.resume(agent, actor=analyst, reason=reason)
        broker.close()
    console.print(f"{agent}: {'resumed' if done else 'not suspended'}", highlight=False)
