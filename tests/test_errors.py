"""Every error Vigile raises on purpose is in one family of the one table
(:data:`vigile.errors.ANSWERS`), and so has a status, an answer in the API's error shape
and a page in the console. The errors are found by importing every module of ``vigile``
and walking the subclasses of :class:`~vigile.errors.VigileError`."""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Iterator
from html import escape

import pytest
from fastapi import APIRouter, FastAPI

import vigile
from vigile import console
from vigile.api import create_app
from vigile.broker import BrokerError
from vigile.broker import NotFound as BrokerNotFound
from vigile.console.core import ConsoleRoute
from vigile.detect import AlertNotFound
from vigile.errors import (
    ANSWERS,
    InternalError,
    VigileError,
    answer_for,
    family_of,
    status_of,
)
from vigile.respond import IncidentClosed, IncidentNotFound, NotificationNotReady
from vigile.settings import Settings
from vigile.store import Store
from vigile.transparency import AccessNotFound, TransparencyError, UnknownCustomer

with warnings.catch_warnings():
    # Starlette asks for httpx2; the project pins httpx, which works unchanged.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

#: Roots that group one domain's errors and are only ever raised through a subclass
#: (each subclass has a family). In no family themselves: raised, one would be a bug,
#: answered as an internal error.
NAMESPACES = {VigileError, BrokerError, TransparencyError}
#: The API's ``code`` of each status an error family has.
CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}
#: A message that must be escaped on a page.
MESSAGE = "<b>no such thing</b> & more"


def _import_every_module() -> None:
    for module in pkgutil.walk_packages(vigile.__path__, "vigile."):
        # __main__ runs the CLI; the migration scripts run only under Alembic.
        if module.name == "vigile.__main__" or module.name.startswith("vigile.store.migrations"):
            continue
        importlib.import_module(module.name)


def _subclasses(root: type[VigileError]) -> Iterator[type[VigileError]]:
    for kind in root.__subclasses__():
        yield kind
        yield from _subclasses(kind)


def _name(kind: type[VigileError]) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


_import_every_module()
ERRORS = sorted(
    {VigileError} | {k for k in _subclasses(VigileError) if k.__module__.startswith("vigile.")},
    key=_name,
)
BY_NAME = {_name(kind): kind for kind in ERRORS}


def _instance(kind: type[VigileError]) -> VigileError:
    """An error of ``kind`` whose message is :data:`MESSAGE`, whatever its constructor
    takes (every one keeps its message in ``args``)."""
    error = kind.__new__(kind)
    Exception.__init__(error, MESSAGE)
    return error


def test_every_module_was_walked() -> None:
    assert len(ERRORS) > 40
    assert {AlertNotFound, IncidentNotFound, BrokerNotFound, UnknownCustomer} <= set(ERRORS)


def test_the_table() -> None:
    """The families and their statuses, as docs/broker.md and docs/transparency.md say."""
    statuses = {family.__name__: answer.status for family, answer in ANSWERS.items()}
    assert statuses == {
        "InputError": 422,
        "Unauthenticated": 401,
        "Forbidden": 403,
        "NotFound": 404,
        "Conflict": 409,
        "StoreError": 503,
        "InternalError": 500,
    }
    for family, answer in ANSWERS.items():
        # A server's fault says nothing of its cause; a caller's says what was wrong.
        assert (answer.shown is not None) == (answer.status >= 500), family
        assert (answer.challenge is not None) == (answer.status == 401), family
    assert len({answer.title for answer in ANSWERS.values()}) == len(ANSWERS)


@pytest.mark.parametrize("kind", ERRORS, ids=_name)
def test_every_error_is_in_one_family(kind: type[VigileError]) -> None:
    families = [family for family in ANSWERS if issubclass(kind, family)]
    if kind in NAMESPACES:
        assert families == []
        assert family_of(kind) is None
        assert answer_for(_instance(kind)) is ANSWERS[InternalError]
    else:
        assert len(families) == 1, f"{_name(kind)} is in {families or 'no family'}"
        assert family_of(kind) is families[0]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AlertNotFound("no alert with id 7"), 404),  # was 500 (no family)
        (IncidentNotFound("INC-0007"), 404),  # was 422 (an InputError)
        (IncidentClosed("INC-0007"), 409),  # was 422
        (NotificationNotReady("INC-0007: preview first"), 409),  # was 422
        (BrokerNotFound("no grant 'g-1'"), 404),
        (UnknownCustomer("c-1"), 404),
        (AccessNotFound("e-1"), 404),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_what_is_missing_is_a_404_and_what_is_settled_a_409(
    error: VigileError, status: int
) -> None:
    assert status_of(error) == status


def test_every_console_router_answers_errors_with_pages() -> None:
    routers = [
        (name, router)
        for name, module in _console_modules()
        if isinstance(router := getattr(module, "router", None), APIRouter)
    ]
    assert len(routers) >= 6
    for name, router in routers:
        assert router.route_class is ConsoleRoute, name


def _console_modules() -> Iterator[tuple[str, object]]:
    for module in pkgutil.iter_modules(console.__path__, "vigile.console."):
        yield module.name, importlib.import_module(module.name)


# -- through the API and the console --------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("errors")
    settings = Settings(
        db=str(folder / "vigile.db"),
        ledger_key=str(folder / "keys" / "ledger.key"),
        broker_token_key=str(folder / "broker.key"),
    )
    (folder / "keys").mkdir()
    with Store.open(settings, create=True) as store:
        app = create_app(settings, store=store)
        _add_raising_routes(app)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client


def _add_raising_routes(app: FastAPI) -> None:
    """A route of the API and a page of the console that raise the error named."""

    @app.get("/test/raise/{name}")
    def api_raises(name: str) -> None:
        raise _instance(BY_NAME[name])

    pages = APIRouter(route_class=ConsoleRoute)

    @pages.get("/console/test/raise/{name}")
    def page_raises(name: str) -> None:
        raise _instance(BY_NAME[name])

    app.include_router(pages)


@pytest.mark.parametrize("kind", ERRORS, ids=_name)
def test_the_api_answers_every_error_as_its_family_says(
    client: TestClient, kind: type[VigileError]
) -> None:
    answer = answer_for(_instance(kind))
    response = client.get(f"/test/raise/{_name(kind)}")
    assert response.status_code == answer.status
    error = response.json()["error"]
    assert error["code"] == CODES[answer.status]
    assert error["request_id"] == response.headers["x-request-id"]
    if answer.shown is None:
        assert error["message"] == MESSAGE
    else:
        assert error["message"].startswith(answer.shown)
        assert "such thing" not in error["message"]
    if answer.challenge is not None:
        assert response.headers["www-authenticate"] == answer.challenge


@pytest.mark.parametrize("kind", ERRORS, ids=_name)
def test_the_console_has_a_page_for_every_error(
    client: TestClient, kind: type[VigileError]
) -> None:
    answer = answer_for(_instance(kind))
    response = client.get(f"/console/test/raise/{_name(kind)}")
    assert response.status_code == answer.status
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert f"<h1>{answer.title}</h1>" in page
    if answer.shown is None:
        assert escape(MESSAGE, quote=False) in page
    else:
        assert answer.shown in page
        assert "such thing" not in page
    assert "Traceback" not in page
    assert MESSAGE not in page  # escaped, never raw
