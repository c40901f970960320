"""Ingest into the store on SQLite and PostgreSQL: all or nothing, idempotent, ordered."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.activitylog.broken import truncated_gzip
from tests.conftest import SPEC_EXAMPLE
from vigile.errors import InputError, RecordError
from vigile.ingest import ingest_file
from vigile.model import Access, SignIn, TicketEvent
from vigile.model.times import parse_rfc3339
from vigile.store import Store
from vigile.store import tables as t


def write(path: Path, *objects: object) -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objects))
    return path


def in_batches_of_two(store: Store) -> Store:
    """The same store, ingesting two lines at a time: exercises batch boundaries."""
    return Store(store.engine, replace(store.settings, ingest_batch=2))


def count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_spec_example_is_stored(store: Store) -> None:
    summary = ingest_file(store, SPEC_EXAMPLE)
    assert summary.stored == {"ticket": 2, "signin": 1, "access": 1}
    assert summary.upserted == {"agent": 1, "customer": 1, "contact": 1}
    assert (summary.first_seq, summary.last_seq) == (0, 3)
    assert store.counts()["accesses"] == 1
    contact = store.contacts_of("c-00412")[0]
    assert contact.email == "ann@ministry.example"


def test_reingest_stores_nothing_twice(store: Store) -> None:
    ingest_file(store, SPEC_EXAMPLE)
    again = ingest_file(store, SPEC_EXAMPLE)
    assert again.stored == {}
    assert again.duplicates == 4
    assert store.counts() == {
        "agents": 1,
        "customers": 1,
        "contacts": 1,
        "accounts": 0,
        "subscriptions": 0,
        "ticket_events": 2,
        "signins": 1,
        "accesses": 1,
        "audit_events": 0,
    }


def test_duplicates_within_one_file_are_stored_once(store: Store, tmp_path: Path) -> None:
    access = orjson.loads(SPEC_EXAMPLE.read_text().splitlines()[-1])
    path = write(tmp_path / "dup.jsonl", access, access, {**access, "id": "e-3"})
    summary = ingest_file(in_batches_of_two(store), path)
    assert summary.stored == {"access": 2}
    assert summary.duplicates == 1
    assert (summary.first_seq, summary.last_seq) == (0, 1)


def test_one_invalid_line_stores_nothing(store: Store, tmp_path: Path) -> None:
    good = SPEC_EXAMPLE.read_text()
    path = tmp_path / "bad.jsonl"
    path.write_text(good + '{"kind": "access", "id": "e-9"}\n')
    with pytest.raises(RecordError, match=r"bad\.jsonl:9: time: required"):
        ingest_file(in_batches_of_two(store), path)
    assert set(store.counts().values()) == {0}


@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "worker-pool"])
def test_a_truncated_gzip_stores_nothing_and_names_its_line(
    store: Store, tmp_path: Path, parallel: bool
) -> None:
    gz = tmp_path / "cut.jsonl.gz"
    broken = truncated_gzip(gz)  # in the second chunk of 5,000 lines (the reader's first
    # line there, 5,001, is what the error named before issue 16, item 6)
    with pytest.raises(InputError, match=rf"cut\.jsonl\.gz:{broken}: .* {broken - 1} whole lines"):
        ingest_file(store, gz, parallel=parallel, skip_invalid=True)
    assert set(store.counts().values()) == {0}


def test_skip_invalid_stores_the_valid_lines(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(SPEC_EXAMPLE.read_text() + "{oops\n")
    summary = ingest_file(store, path, skip_invalid=True)
    assert summary.skipped == 1
    [error] = summary.errors
    assert error.startswith(f"{path}:9: json: not a JSON object: unexpected character")
    assert store.counts()["accesses"] == 1


def test_directory_upsert_keeps_the_newest_version(store: Store, tmp_path: Path) -> None:
    old = {"kind": "customer", "id": "c", "name": "Old", "time": "2021-01-01T00:00:00Z"}
    new = {**old, "name": "New", "time": "2021-03-01T00:00:00Z"}
    ingest_file(store, write(tmp_path / "1.jsonl", new))
    ingest_file(store, write(tmp_path / "2.jsonl", old))
    customer = store.customer("c")
    assert customer is not None
    assert customer.name == "New"
    undated = {"kind": "customer", "id": "c", "name": "Renamed"}
    ingest_file(store, write(tmp_path / "3.jsonl", undated))
    assert store.customer("c").name == "Renamed"  # type: ignore[union-attr]


def test_access_without_ip_gets_its_session_sign_in_address(store: Store, tmp_path: Path) -> None:
    lines = SPEC_EXAMPLE.read_text().splitlines()
    signin, access = orjson.loads(lines[6]), orjson.loads(lines[7])
    ingest_file(store, write(tmp_path / "1.jsonl", signin))
    ingest_file(store, write(tmp_path / "2.jsonl", access, {**access, "id": "e-3"}))
    [first, second] = [e for e in store.events_of_session("s-9f3") if isinstance(e, Access)]
    assert first.ip == second.ip == "198.51.100.23"


def test_events_are_append_only_in_the_database(store: Store) -> None:
    ingest_file(store, SPEC_EXAMPLE)
    for table in ("accesses", "signins", "ticket_events"):
        for statement in (f"UPDATE {table} SET time_us = 0", f"DELETE FROM {table}"):
            with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
                conn.execute(text(statement))
    assert count(store, t.accesses) == 1


def test_postgres_refuses_truncate(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    ingest_file(store, SPEC_EXAMPLE)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE accesses"))


def test_queries_by_agent_customer_session(store: Store, tmp_path: Path) -> None:
    lines = [orjson.loads(line) for line in SPEC_EXAMPLE.read_text().splitlines()[1:]]
    search = {
        "kind": "access",
        "time": "2021-05-20T10:00:00Z",
        "id": "e-9",
        "agent": "a-0099",
        "session": "s-x",
        "action": "customer.search",
        "query": "ministry",
        "results": ["c-00412", "c-1"],
        "fields": ["customer.name"],
        "outcome": "allowed",
    }
    ingest_file(store, write(tmp_path / "q.jsonl", *lines, search))
    since, until = parse_rfc3339("2021-05-20T00:00:00Z"), parse_rfc3339("2021-05-20T09:30:00Z")
    of_agent = store.events_of_agent("a-0017", since, until)
    assert [type(e) for e in of_agent] == [SignIn, TicketEvent]  # both ends inclusive
    touching = store.events_of_customer("c-00412")
    assert [e.id for e in touching][-2:] == ["e-2", "e-9"]
    assert [e.id for e in store.events_of_customer("c-1")] == ["e-9"]
    assert [e.id for e in store.events_of_session("s-9f3")] == ["e-1", "e-2"]


def test_ticket_as_of_a_moment(store: Store, tmp_path: Path) -> None:
    steps = [
        {
            "kind": "ticket",
            "time": "2021-05-20T09:00:00Z",
            "ticket": "T",
            "customer": "c",
            "event": "opened",
        },
        {
            "kind": "ticket",
            "time": "2021-05-20T09:10:00Z",
            "ticket": "T",
            "event": "assigned",
            "agent": "a-1",
        },
        {
            "kind": "ticket",
            "time": "2021-05-20T09:20:00Z",
            "ticket": "T",
            "event": "assigned",
            "agent": "a-2",
        },
        {"kind": "ticket", "time": "2021-05-20T10:00:00Z", "ticket": "T", "event": "closed"},
    ]
    ingest_file(store, write(tmp_path / "t.jsonl", *reversed(steps)))
    at = parse_rfc3339
    assert store.ticket_as_of("T", at("2021-05-20T08:59:59Z")) is None
    assert store.ticket_as_of("T", at("2021-05-20T09:15:00Z")).assignee == "a-1"  # type: ignore[union-attr]
    later = store.ticket_as_of("T", at("2021-05-20T09:30:00Z"))
    assert later is not None
    assert (later.assignee, later.is_open) == ("a-2", True)
    assert not store.ticket_as_of("T", at("2021-05-21T00:00:00Z")).is_open  # type: ignore[union-attr]


def test_events_are_numbered_in_time_order_whatever_the_file_order(
    store: Store, tmp_path: Path
) -> None:
    """The spec example lists its sign-in (08:01) after ticket steps (09:12, 09:30)."""
    summary = ingest_file(in_batches_of_two(store), SPEC_EXAMPLE)
    assert summary.reordered
    with store.engine.connect() as conn:
        order = (
            conn.execute(
                text(
                    "SELECT id FROM (SELECT seq, id FROM signins UNION ALL "
                    "SELECT seq, id FROM ticket_events UNION ALL "
                    "SELECT seq, id FROM accesses) AS events ORDER BY seq"
                )
            )
            .scalars()
            .all()
        )
    assert order == [
        "e-1",
        "T-88121/opened/2021-05-20T09:12:00Z/",
        "T-88121/assigned/2021-05-20T09:30:00Z/a-0017",
        "e-2",
    ]


def test_a_file_in_time_order_is_read_once(store: Store, tmp_path: Path) -> None:
    lines = SPEC_EXAMPLE.read_text().splitlines()
    in_order = tmp_path / "ordered.jsonl"
    in_order.write_text("\n".join([*lines[:4], lines[6], lines[4], lines[5], lines[7]]) + "\n")
    assert not ingest_file(store, in_order).reordered
