"""Hostile ticket records from the ticketing system: refused with 422 naming the record and
the field, by the same decoder `vigile ingest` uses (which names the file and line instead).

Before, a time that leaves the calendar once in UTC raised ``OverflowError`` (500), and a lone
surrogate reached the group-commit writer, where it failed the whole batch: other agents'
concurrent requests answered 500 with it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from tests.broker import test_api as api
from tests.broker.conftest import accesses
from vigile.cli.app import main
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

# The HTTP API's fixtures: an app over the test store, its settings, the OIDC key.
oidc_key, api_settings, client = api.oidc_key, api.api_settings, api.client

OPENED = '"kind": "ticket", "ticket": "T-9", "event": "opened", "customer": "c-1"'
AT = '"time": "2026-11-29T07:00:00Z"'
GOOD = f"{{{OPENED}, {AT}}}"

# (one record as JSON text, field named over HTTP, field named by `vigile ingest`): orjson,
# which reads files, already refuses lone surrogates and non-finite numbers as bad JSON.
HOSTILE = [
    (f'{{{OPENED}, "time": "9999-12-31T23:59:59-23:59"}}', "time", "time"),
    (f'{{{OPENED}, "time": "0001-01-01T00:00:00+23:59"}}', "time", "time"),
    (
        f'{{{AT}, "kind": "ticket", "ticket": "T-\\ud800", "event": "opened", "customer": "c-1"}}',
        "ticket",
        "json",
    ),
    (
        f'{{{AT}, "kind": "ticket", "ticket": "T-9", "event": "opened", "customer": "c-\\udc00"}}',
        "customer",
        "json",
    ),
    (
        f'{{{AT}, "kind": "ticket", "ticket": "T-\\u0000", "event": "opened", "customer": "c-1"}}',
        "ticket",
        "ticket",
    ),
    (f'{{{OPENED}, {AT}, "category": "x\\ud800"}}', "category", "json"),
    (f'{{{OPENED}, {AT}, "x\\udfff": 1}}', "x\\udfff", "json"),
    (f'{{{OPENED}, {AT}, "priority": NaN}}', "priority", "json"),
    (f'{{{OPENED}, {AT}, "priority": 1e400}}', "priority", "json"),
    (f'{{{OPENED}, {AT}, "links": {"[" * 100 + "]" * 100}}}', "links", "links"),
]
HEADERS = {"Authorization": f"Bearer {api.INTEGRATION}", "Content-Type": "application/json"}


def _ticket_steps(store: Store) -> int:
    with connect(store.engine) as conn:
        count = conn.execute(select(func.count()).select_from(t.ticket_events)).scalar_one()
    return int(count)


@pytest.mark.parametrize(("record", "field", "_"), HOSTILE)
def test_a_hostile_record_is_refused_naming_it_and_nothing_is_stored(
    client: TestClient, store: Store, record: str, field: str, _: str
) -> None:
    before = _ticket_steps(store)
    response = client.post(
        "/v1/integrations/tickets", content=f"[{GOOD}, {record}]", headers=HEADERS
    )
    error = api._error(response, 422)
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"record 1: {field}: ")
    assert _ticket_steps(store) == before  # the good record before it is not kept either


def test_a_hostile_record_does_not_fail_other_agents_requests(
    client: TestClient, api_settings: Settings, store: Store
) -> None:
    poison = (
        f'[{{{AT}, "kind": "ticket", "ticket": "T-\\ud800", "event": "opened", "customer": "c-1"}}]'
    )
    agent = api._token(api_settings, "a-1")
    justified = {"ticket": "T-api", "reason": api.SUPPORT}

    def attack(_: int) -> int:
        return client.post("/v1/integrations/tickets", content=poison, headers=HEADERS).status_code

    def view(_: int) -> int:
        return client.get("/v1/customers/c-1", params=justified, headers=agent).status_code

    with ThreadPoolExecutor(8) as pool:
        attacks = pool.map(attack, range(40))
        views = pool.map(view, range(40))
        assert (set(attacks), set(views)) == ({422}, {200})
    assert [a["outcome"] for a in accesses(store)] == ["allowed"] * 40


@pytest.mark.parametrize(("record", "_", "field"), HOSTILE)
def test_vigile_ingest_names_the_file_line_and_field(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    record: str,
    _: str,
    field: str,
) -> None:
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "ingest.db"))
    log = tmp_path / "tickets.jsonl"
    header = json.dumps({"kind": "header", "format": "vigile-activity", "version": 1})
    log.write_text(f"{header}\n{GOOD}\n{record}\n")
    with pytest.raises(SystemExit) as exited:
        main(["ingest", str(log)])
    err = capsys.readouterr().err.replace("\n", "")
    assert exited.value.code == 1
    assert f"{log}:3: {field}: " in err
    assert "Traceback" not in err
