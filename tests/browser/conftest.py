"""Browser tests: the real app under uvicorn on loopback, driven by Playwright in Debian's
Chromium (never a browser Playwright downloads).

They skip when ``/usr/bin/chromium`` or Playwright is missing, unless
``VIGILE_REQUIRE_BROWSER=1`` (``.ci/run`` sets it): then they fail. Screenshots of the
key steps go to ``out/screenshots/`` under the repository root, kept after the run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.console.world import Login, populate
from vigile.api import create_app
from vigile.settings import Settings
from vigile.store import Store

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "out" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
# Read at import: the suite's autouse fixture clears VIGILE_* variables for each test.
REQUIRED = os.environ.get("VIGILE_REQUIRE_BROWSER") == "1"
#: What Chromium needs on a machine with a closed network, as root, without a GPU.
#: Playwright itself gives each launch a fresh temporary --user-data-dir.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(why: str) -> None:
    if REQUIRED:
        pytest.fail(f"VIGILE_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(why)


@dataclass(frozen=True, kw_only=True)
class Served:
    """The app on loopback, over a store populated with the small organisation."""

    url: str
    store: Store
    logins: dict[str, Login]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(folder: Path, prepare: Callable[[Store], None] | None = None) -> Iterator[Served]:
    """``vigile.api.create_app`` under uvicorn in a background thread, over a new store in
    ``folder``: ``prepare`` fills it first, then the small organisation of the console
    tests is added (its accounts, one per role)."""
    (folder / "keys").mkdir(parents=True)
    settings = Settings(
        db=str(folder / "vigile.db"),
        ledger_key=str(folder / "keys" / "ledger.key"),
        broker_token_key=str(folder / "keys" / "broker.key"),
    )
    with Store.open(settings, create=True) as store:
        if prepare is not None:
            prepare(store)
        logins = populate(store)
        app = create_app(settings, store=store)
        port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="vigile-browser-tests", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the app did not start under uvicorn")
            time.sleep(0.05)
        try:
            yield Served(url=f"http://127.0.0.1:{port}", store=store, logins=logins)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.state.broker.close()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app over the small organisation alone."""
    with serving(tmp_path_factory.mktemp("browser")) as app:
        yield app


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any, served: Served) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (its own cookies: one
    person signed in per context), on ``served`` unless given another app's address.

    Every page must run without a script error or a Content-Security-Policy violation
    (an inline script or style the policy blocked), checked at the end of the test.
    """
    contexts: list[Any] = []
    problems: list[str] = []

    def watch(message: Any) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    def make(url: str | None = None) -> Any:
        context = browser.new_context(viewport=VIEWPORT, base_url=url or served.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("console", watch)
        page.on("pageerror", lambda error: problems.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == [], problems


def shoot(page: Any, name: str) -> Path:
    """A screenshot of the viewport into ``out/screenshots/``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def sign_in(page: Any, login: Login) -> None:
    """Signs in through the sign-in form (password and the current TOTP code)."""
    page.goto("/console/login")
    page.fill("input[name=username]", login.username)
    page.fill("input[name=password]", login.password)
    page.fill("input[name=code]", login.code())
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/console/login" not in page.url, page.content()


@pytest.fixture
def expect(browser: Any) -> Any:
    """Playwright's auto-waiting assertions (after ``browser``: skips alike)."""
    from playwright.sync_api import expect as playwright_expect  # noqa: PLC0415

    return playwright_expect
