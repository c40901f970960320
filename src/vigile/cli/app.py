"""The ``vigile`` command. Commands translate arguments and call a domain; no logic here.

Exit codes: 0 success, 1 a failure Vigile explains (no traceback), 2 a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer
from rich.markup import escape

from vigile import __version__
from vigile.cli import broker as broker_cli
from vigile.cli import console as console_cli
from vigile.cli import data, demo, lake, ledger
from vigile.cli import detect as detect_cli
from vigile.cli import mcp as mcp_cli
from vigile.cli import phishing as phishing_cli
from vigile.cli import respond as respond_cli
from vigile.cli import transparency as transparency_cli
from vigile.cli.output import err
from vigile.errors import VigileError

__all__ = ["app", "main"]

app = typer.Typer(
    name="vigile",
    help="Vigile: the layer between support agents and customer data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
data.register(app)
demo.register(app)
ledger.register(app)
lake.register(app)
transparency_cli.register(app)
detect_cli.register(app)
respond_cli.register(app)
broker_cli.register(app)
console_cli.register(app)
mcp_cli.register(app)
phishing_cli.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vigile {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Vigile: the layer between support agents and customer data."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run a command, turning Vigile's errors into one line and exit code 1."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="vigile")
    except VigileError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("[bold red]interrupted[/]: nothing was committed by the interrupted step")
        sys.exit(130)
