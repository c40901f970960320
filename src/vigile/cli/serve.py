"""``vigile serve``: the HTTP API (:mod:`vigile.api`) under uvicorn, on the store of
``VIGILE_DB``. Loopback by default: exposing it is a decision, and TLS belongs to a
reverse proxy in front."""

from __future__ import annotations

import ipaddress

import typer
import uvicorn

from vigile.api import create_app
from vigile.cli.output import err
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
) -> None:
    """Serve the web console and the HTTP API (access broker, transparency, ledger
    checkpoints, health) until interrupted."""
    settings = Settings.from_env()
    with Store.open(settings) as store:
        if not _is_loopback(host):
            err.print(
                f"[yellow]warning:[/] listening on {host}: reachable from the network; "
                "terminate TLS in front of it",
                highlight=False,
            )
        shown = f"[{host}]" if ":" in host else host
        err.print(
            f"Console: http://{shown}:{port}/console/ (accounts: `vigile console add`); "
            f"API schema: http://{shown}:{port}/openapi.json",
            highlight=False,
        )
        uvicorn.run(create_app(settings, store=store), host=host, port=port, log_level="info")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
