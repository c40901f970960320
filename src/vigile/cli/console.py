"""``vigile console``: the web console's local accounts (the embedded mode)."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from vigile.cli.output import Format, console, print_json
from vigile.console import totp
from vigile.console.accounts import ROLES, ConsoleAccounts
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]

console_app = typer.Typer(
    name="console", help="The web console's local accounts.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(console_app)


@console_app.command("add")
def add(
    username: str = typer.Argument(..., help="Sign-in name: lower-case letters, digits, ._@-"),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    subject: str = typer.Option(
        ...,
        "--subject",
        help="The agent id the account acts as (agent, supervisor, analyst), or the customer "
        "id it speaks for (customer).",
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (scripts)."
    ),
    mfa: bool = typer.Option(
        True, "--mfa/--no-mfa", help="Give the account a TOTP second factor (default)."
    ),
    format: Format = typer.Option(Format.TEXT, "--format", help="Output format: text or json."),
) -> None:
    """Create an account; prints its TOTP secret once, to enrol in an authenticator app."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Store.open(Settings.from_env()) as store:
        account = ConsoleAccounts(store).add(
            username, role=role, subject=subject, password=password, mfa=mfa
        )
    uri = totp.otpauth_uri(account.totp_secret, username) if account.totp_secret else None
    if format is Format.JSON:
        print_json(
            {
                "username": account.username,
                "role": account.role,
                "subject": account.subject,
                "totp_secret": account.totp_secret,
                "otpauth_uri": uri,
            }
        )
        return
    console.print(f"Account [bold]{username}[/] ({role} of {subject}) created.", highlight=False)
    if uri:
        console.print(f"TOTP secret (shown once): {account.totp_secret}", highlight=False)
        console.print(f"Enrol with: {uri}", highlight=False, soft_wrap=True)
    else:
        console.print(
            "[yellow]No second factor[/]: the broker refuses agents without one while "
            "VIGILE_BROKER_REQUIRE_MFA=1.",
            highlight=False,
        )


@console_app.command("list")
def list_accounts(
    format: Format = typer.Option(Format.TEXT, "--format", help="Output format: text or json."),
) -> None:
    """Every account, with its role, subject, second factor and state."""
    with Store.open(Settings.from_env()) as store:
        accounts = ConsoleAccounts(store).all()
    rows = [
        {
            "username": a.username,
            "role": a.role,
            "subject": a.subject,
            "mfa": a.has_mfa,
            "enabled": enabled,
        }
        for a, enabled in accounts
    ]
    if format is Format.JSON:
        print_json({"accounts": rows})
        return
    table = Table("username", "role", "subject", "mfa", "state", box=None)
    for row in rows:
        table.add_row(
            str(row["username"]),
            str(row["role"]),
            str(row["subject"]),
            "totp" if row["mfa"] else "none",
            "enabled" if row["enabled"] else "disabled",
        )
    console.print(table)


@console_app.command("disable")
def disable(username: str = typer.Argument(..., help="The account to disable.")) -> None:
    """Disable an account: it can no longer sign in (its history stays)."""
    with Store.open(Settings.from_env()) as store:
        ConsoleAccounts(store).disable(username)
    console.print(f"Account [bold]{username}[/] disabled.", highlight=False)
