"""The ledger's status for the analyst: the latest signed checkpoint, and a verification
run on demand (the same check as ``vigile ledger verify``: every event re-hashed, the
tree rebuilt, every stored and published checkpoint compared)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigile.console.analyst_common import AnalystSession
from vigile.console.core import Console, ConsoleDep, ConsoleRoute
from vigile.errors import VigileError
from vigile.ledger.encoding import encode_b64
from vigile.ledger.keyfile import load_verifier
from vigile.ledger.service import public_key_path
from vigile.ledger.sql import latest_checkpoint, ledger_size
from vigile.ledger.verify_store import VerifyReport, verify_ledger
from vigile.store.engine import connect

__all__ = ["router", "verify"]

router = APIRouter(prefix="/ledger", include_in_schema=False, route_class=ConsoleRoute)


@router.get("", response_class=HTMLResponse)
def status(request: Request, console: ConsoleDep, session: AnalystSession) -> Response:
    """The ledger's size and latest checkpoint."""
    return _page(request, console, session, report=None, error=None)


@router.post("/verify", response_class=HTMLResponse)
def verify_now(request: Request, console: ConsoleDep, session: AnalystSession) -> Response:
    """Verify the whole ledger now and say what was found."""
    try:
        report, error = verify(console), None
    except VigileError as exc:  # no verifier key yet, a corrupt checkpoint file...
        report, error = None, str(exc)
    if request.headers.get("hx-request"):  # htmx swaps the verification card in place
        return console.render(
            request,
            "analyst/_verification.html.j2",
            session=session,
            report=report,
            error=error,
        )
    return _page(request, console, session, report=report, error=error)


def verify(console: Console) -> VerifyReport:
    """``vigile ledger verify`` over the console's store, with the published checkpoint
    (``VIGILE_CHECKPOINT_FILE``) when there is one."""
    settings = console.store.settings
    verifier = load_verifier(public_key_path(settings))
    published = []
    if settings.checkpoint_file and Path(settings.checkpoint_file).exists():
        published.append(Path(settings.checkpoint_file).read_text(encoding="utf-8"))
    with connect(console.store.engine) as conn:
        return verify_ledger(conn, verifier, published=published)


def _page(
    request: Request,
    console: Console,
    session: AnalystSession,
    *,
    report: VerifyReport | None,
    error: str | None,
) -> Response:
    with connect(console.store.engine) as conn:
        latest = latest_checkpoint(conn)
        size = ledger_size(conn)
    return console.render(
        request,
        "analyst/ledger.html.j2",
        session=session,
        latest=latest,
        root=encode_b64(latest.root) if latest else None,
        size=size,
        report=report,
        error=error,
    )
