"""``vigile mcp``: the support tools for AI agents as an MCP server (:mod:`vigile.mcp`),
over stdio (one agent, its token given at start) or streamable HTTP (each request
carries its agent's bearer token)."""

from __future__ import annotations

import getpass
import os
from enum import StrEnum
from pathlib import Path

import anyio
import typer
import uvicorn

from vigile.broker import Broker
from vigile.cli.output import err
from vigile.errors import ConfigError
from vigile.mcp import TOOLS, SupportServer, ToolPins
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["register"]

#: Where a stdio server reads its agent's token when no file is named.
TOKEN_ENV = "VIGILE_MCP_TOKEN"  # noqa: S105 - a variable's name, not a secret


class Transport(StrEnum):
    STDIO = "stdio"
    HTTP = "http"


def register(app: typer.Typer) -> None:
    app.command(name="mcp")(mcp)


def mcp(
    transport: Transport = typer.Option(
        Transport.STDIO, "--transport", help="stdio (one agent) or http (streamable HTTP)."
    ),
    agent: str | None = typer.Option(
        None, "--agent", help="Serve only this agent: a token of another is refused."
    ),
    token_file: Path | None = typer.Option(
        None,
        "--token-file",
        help=f"stdio: a file holding the agent's bearer token (else ${TOKEN_ENV}).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="http: address to listen on."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="http: TCP port."),
    url: str | None = typer.Option(
        None, "--url", help="http: the URL clients reach (default http://HOST:PORT/mcp)."
    ),
    approve_tools: bool = typer.Option(
        False,
        "--approve-tools",
        help="Pin the tools' definitions as they are now (a human's approval) and exit.",
    ),
    by: str | None = typer.Option(
        None, "--by", help="--approve-tools: who approves (default: the system user)."
    ),
) -> None:
    """Serve the support tools to AI agents over MCP: every call authenticated with the
    agent's own token, decided, masked and recorded by the access broker. Only tools
    whose definitions a human approved (--approve-tools) are offered."""
    settings = Settings.from_env()
    with Store.open(settings) as store:
        broker = Broker(store, settings)
        try:
            if approve_tools:
                _approve(broker, by or getpass.getuser())
            elif transport is Transport.STDIO:
                token = _token(token_file)
                # Checked now: a wrong token stops the start, not the first call.
                who = broker.authenticate(token, ip="127.0.0.1", user_agent="vigile-mcp-stdio")
                if agent is not None and who.agent != agent:
                    raise ConfigError(f"the token is {who.agent}'s, not {agent}'s")
                server = SupportServer(broker, agent=agent or who.agent, token=token)
                anyio.run(server.serve_stdio)
            else:
                shown = f"[{host}]" if ":" in host else host
                served = url or f"http://{shown}:{port}/mcp"
                issuer = settings.broker_oidc_issuer or None
                app = SupportServer(broker, agent=agent).http_app(url=served, issuer=issuer)
                err.print(f"MCP (streamable HTTP): {served}", highlight=False)
                uvicorn.run(app, host=host, port=port, log_level="warning")
        finally:
            broker.close()


def _approve(broker: Broker, actor: str) -> None:
    """Pin every tool as defined now; print each tool's digest and what changed."""
    pins = ToolPins(broker)
    changed = {check.tool: check for check in pins.approve(TOOLS.values(), actor=actor)}
    for check in pins.check(TOOLS.values()).values():
        was = changed.get(check.tool)
        state = "approved now" if was is not None else "already approved"
        if was is not None and was.pinned is not None:
            state = f"approved now (was sha256:{was.pinned[:16]}...)"
        typer.echo(f"{check.tool}\tsha256:{check.digest}\t{state}")


def _token(path: Path | None) -> str:
    if path is not None:
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the token: {exc.strerror}") from exc
    else:
        text = os.environ.get(TOKEN_ENV, "").strip()
    if not text:
        where = str(path) if path is not None else f"${TOKEN_ENV}"
        raise ConfigError(f"{where}: no token (issue one with `vigile broker token AGENT`)")
    return text
