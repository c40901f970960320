"""``vigile serve``: the HTTP API (:mod:`vigile.api`) under uvicorn, on the store of
``VIGILE_DB``. Loopback by default: exposing it is a decision, and TLS belongs to a
reverse proxy in front."""

from __future__ import annotations

import ipaddress

import typer
import uvicorn
from fastapi import FastAPI

from vigile.api import create_app
from vigile.cli.output import err
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register", "run_server"]


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Processes serving the port; every request's state is in the store.",
    ),
) -> None:
    """Serve the web console and the HTTP API (access broker, transparency, ledger
    checkpoints, health) until interrupted."""
    settings = Settings.from_env()
    with Store.open(settings) as store:  # migrated, and known to exist, before serving
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
        if workers == 1:
            run_server(create_app(settings, store=store), settings, host=host, port=port)
            return
    run_server(_WORKER_APP, settings, host=host, port=port, workers=workers)


#: What each worker process of ``--workers N`` imports and calls.
_WORKER_APP = "vigile.api.app:app_from_environment"


def run_server(
    app: FastAPI | str,
    settings: Settings,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Serve ``app`` under uvicorn until interrupted: connections bounded, and the
    ``X-Forwarded-*`` headers believed only from the proxies the settings list (uvicorn
    would otherwise believe any local process: 127.0.0.1 by default). With ``workers``
    above one, ``app`` is the import string of an app factory each worker calls."""
    proxies = [item.strip() for item in settings.serve_trusted_proxies.split(",")]
    trusted = [item for item in proxies if item]
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        limit_concurrency=settings.serve_max_connections,
        proxy_headers=bool(trusted),
        # Never None: uvicorn would read FORWARDED_ALLOW_IPS, or trust 127.0.0.1.
        forwarded_allow_ips=trusted,
        workers=workers,
        factory=workers > 1,
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
