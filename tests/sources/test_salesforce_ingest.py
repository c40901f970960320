"""End to end: ``vigile directory import`` (contacts and accounts too), then ``vigile
ingest --from salesforce`` of Case records and of Event Log Files as Salesforce serves
them (CSV with a header row, every field quoted, ``.csv.gz`` too)."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sources.cli import import_directory_file, jsonl, run, table_counts
from tests.sources.test_salesforce import (
    ACCOUNT_ID,
    CASE,
    CONTACT_ID,
    DOCS_CASE,
    DOCS_LOGIN,
    LOGIN_KEY,
    PORTAL_USER,
    USER,
)
from vigile.errors import InputError
from vigile.ingest import ingest_file
from vigile.model.times import EARLIEST, LATEST
from vigile.sources import (
    Identities,
    VendorLogReader,
    import_directory,
    load_identities,
    source_named,
)
from vigile.store import Store

DIRECTORY_CSV = (
    "kind,id,name,customer,email,phone,role,username,status,salesforce_id,zendesk_id\n"
    f"agent,a-1,Ann,,,,,,,{USER},361\n"
    f"customer,c-1,Ministry of Examples,,,,,,,{ACCOUNT_ID}QAE,9001\n"
    f"contact,k-1,Bo Example,c-1,bo@ministry.example,+1 555 0100,admin,,,{CONTACT_ID},9102\n"
    f"account,u-1,,c-1,bo@ministry.example,,,bo.example,active,{PORTAL_USER}AAA,\n"
)
HEADER = [
    "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "CLIENT_IP",
    "LOGIN_KEY", "SESSION_KEY", "PAGE_ENTITY_ID", "PAGE_ENTITY_TYPE", "PREVPAGE_ENTITY_ID",
    "PREVPAGE_ENTITY_TYPE", "PAGE_URL", "TIMESTAMP_DERIVED", "USER_ID_DERIVED",
]  # fmt: skip


def _page(request: str, record: str, entity: str, *, url: str = "", prev: str = "") -> list[str]:
    return [
        "LightningPageView", "20240501093000.123", request, "00D000000000123", USER[:15],
        "96.43.144.26", LOGIN_KEY, "", record, entity, prev, "Case" if prev else "", url,
        "2024-05-01T09:30:00.123Z", USER,
    ]  # fmt: skip


ROWS = [
    _page("4exLFFQZ1234567890abcd", CONTACT_ID, "Contact", prev=CASE),
    # A PAGE_URL holding a newline inside its quotes: one row over two lines.
    _page("4exLFFQZ1234567890abce", ACCOUNT_ID, "Account", url="/lightning/r/Account\nview"),
    _page("4exLFFQZ1234567890abcf", PORTAL_USER, "User"),
    _page("4exLFFQZ1234567890abcg", "006D000000Oppor", "Opportunity"),
    _page("4exLFFQZ1234567890abch", "003D000000Nobod", "Contact"),
]


def elf_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """An Event Log File as Salesforce serves it: every field quoted, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _setup(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    summary = import_directory_file(capsys, tmp_path, DIRECTORY_CSV)
    assert (summary["agents"], summary["customers"], summary["contacts"]) == (1, 1, 1)
    assert (summary["accounts"], summary["identities"]) == (1, 7)
    cases = jsonl(tmp_path / "cases.jsonl", [DOCS_CASE])
    code, out, _ = run(capsys, "ingest", "--from", "salesforce", str(cases), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["stored"] == {"ticket": 3}


def test_directory_cases_then_a_page_view_log_store_accesses_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    log = tmp_path / "LightningPageView.csv"
    log.write_bytes(elf_csv(HEADER, ROWS))
    code, out, _ = run(capsys, "ingest", "--from", "salesforce", str(log), "--format", "json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["format"] == "salesforce"
    assert summary["stored"] == {"access": 3}
    assert summary["unsupported"] == {"LightningPageView:Opportunity": 1}
    assert summary["unmapped"] == {"Salesforce Contact not in the directory": 1}
    # The sixth row starts on line 7: the second row's quoted newline took two lines.
    assert summary["unmapped_examples"] == {
        "Salesforce Contact not in the directory": [f"{log}:7: 003D000000Nobod"]
    }
    again = tmp_path / "again.csv.gz"
    again.write_bytes(gzip.compress(log.read_bytes()))
    code, out, _ = run(capsys, "ingest", "--from", "salesforce", str(again), "--format", "json")
    assert code == 0, out
    assert (json.loads(out)["stored"], json.loads(out)["duplicates"]) == ({}, 3)
    assert table_counts(capsys)["accesses"] == 3


def test_the_stored_accesses_carry_customer_object_and_case_justification(
    store: Store, tmp_path: Path
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY_CSV)
    import_directory(store, directory)
    ingest_file(store, jsonl(tmp_path / "c.jsonl", [DOCS_CASE]), source=source_named("salesforce"))
    log = tmp_path / "pages.csv"
    log.write_bytes(elf_csv(HEADER, ROWS[:3]))
    ingest_file(store, log, source=source_named("salesforce"))
    events = store.events_of_agent("a-1", EARLIEST, LATEST)
    seen = sorted(
        (str(e.action), e.customer, e.object, e.ticket, e.extra.get("salesforce_page_url"))
        for e in events
        if hasattr(e, "action")
    )
    assert seen == [
        ("account.view", "c-1", "u-1", None, None),
        ("contact.view", "c-1", "k-1", f"salesforce:{CASE}", None),
        ("customer.view", "c-1", None, None, "/lightning/r/Account\nview"),
    ]


def test_load_identities_gives_the_customer_of_contacts_accounts_and_cases(
    store: Store, tmp_path: Path
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY_CSV)
    import_directory(store, directory)
    ingest_file(store, jsonl(tmp_path / "c.jsonl", [DOCS_CASE]), source=source_named("salesforce"))
    identities = load_identities(store)
    assert identities.named("salesforce_contact", CONTACT_ID) == ("contact", "k-1")
    assert identities.named("zendesk_user", "9102") == ("contact", "k-1")
    assert identities.named("salesforce_user", PORTAL_USER) == ("account", "u-1")
    assert identities.named("salesforce_account", ACCOUNT_ID) == ("customer", "c-1")
    assert identities.named("salesforce", USER[:15]) == ("agent", "a-1")
    assert identities.customer_of("contact", "k-1") == "c-1"
    assert identities.customer_of("account", "u-1") == "c-1"
    assert identities.tickets[f"salesforce:{CASE}"] == "c-1"


def _bad(header: list[str], rows: list[list[str]]) -> bytes:
    return elf_csv(header, rows)


_BAD_TIME = [*ROWS[0][:13], "2024-13-01T09:30:00Z", USER]


@pytest.mark.parametrize(
    ("name", "content", "located"),
    [
        (
            "missing-column.csv",
            _bad(HEADER[1:], [r[1:] for r in ROWS]),
            ":1: EVENT_TYPE: header: missing required column",
        ),
        (
            "bad-time.csv",  # row 3 starts on line 5: row 2 spans lines 3 and 4
            _bad(HEADER, [ROWS[0], ROWS[1], _BAD_TIME]),
            ":5: TIMESTAMP_DERIVED: row 3: not a time",
        ),
        ("short-row.csv", _bad(HEADER, [ROWS[0], ROWS[2][:5]]), ":3: row: row 2: fewer cells"),
        (
            "unclosed-quote.csv",
            _bad(HEADER, [ROWS[0]]) + b'"LightningPageView","20240501',
            ":3: csv: row 2: unexpected end of data",
        ),
        ("not-csv.bin", b"\x00\x01\x02garbage\xff\xfe\n", ":1: csv: not UTF-8 text"),
        ("prose.txt", b"hello world\nthis is not a log\n", ":1: EVENT_TYPE: header: missing"),
        ("not-json.jsonl", b'{"EVENT_TYPE": "Login", \n', ":1: json: not a JSON object"),
        (
            "okta.jsonl",
            json.dumps({"uuid": "u-1", "eventType": "user.session.start"}).encode() + b"\n",
            ":1: EVENT_TYPE: not a Salesforce Event Log File row nor sObject",
        ),
        (
            "login.jsonl",
            json.dumps(DOCS_LOGIN).encode()
            + b"\n"
            + json.dumps({**DOCS_LOGIN, "REQUEST_ID": "r2", "TIMESTAMP_DERIVED": "x"}).encode(),
            ":2: TIMESTAMP_DERIVED: not a time",
        ),
    ],
)
def test_bad_input_is_refused_with_file_line_and_field_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: bytes, located: str
) -> None:
    _setup(capsys, tmp_path)
    bad = tmp_path / name
    bad.write_bytes(content)
    code, _, err = run(capsys, "ingest", "--from", "salesforce", str(bad))
    assert code != 0
    assert f"{bad}{located}" in " ".join(err.split())
    tables = table_counts(capsys)
    assert (tables["accesses"], tables["signins"]) == (0, 0)


def test_skip_invalid_stores_the_good_rows_and_names_the_bad_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    bad = tmp_path / "mixed.csv"
    bad.write_bytes(_bad(HEADER, [ROWS[0], ROWS[1], _BAD_TIME, ROWS[2]]))
    code, out, _ = run(
        capsys, "ingest", "--from", "salesforce", str(bad), "--skip-invalid", "--format", "json"
    )
    assert code == 0, out
    summary = json.loads(out)
    assert (summary["skipped"], summary["stored"]) == (1, {"access": 3})
    assert summary["errors"][0].startswith(f"{bad}:5: TIMESTAMP_DERIVED: row 3: not a time")


def test_a_truncated_csv_gzip_is_refused_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    rows = [_page(f"req{n:019d}", ACCOUNT_ID, "Account") for n in range(3000)]
    whole = gzip.compress(elf_csv(HEADER, rows))
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    code, _, err = run(capsys, "ingest", "--from", "salesforce", str(cut))
    assert code != 0
    assert f"{cut}:" in err
    assert "breaks off" in err
    assert table_counts(capsys)["accesses"] == 0


def test_a_login_file_in_csv_gives_sign_ins(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _setup(capsys, tmp_path)
    header = list(DOCS_LOGIN)
    failed = {
        **DOCS_LOGIN,
        "REQUEST_ID": "4exLFFQZ0000000000fail",
        "LOGIN_STATUS": "LOGIN_ERROR_INVALID_PASSWORD",
    }
    log = tmp_path / "Login.csv"
    log.write_bytes(
        elf_csv(header, [[str(v) for v in DOCS_LOGIN.values()], [str(failed[k]) for k in header]])
    )
    code, out, _ = run(capsys, "ingest", "--from", "salesforce", str(log), "--format", "json")
    assert code == 0, out
    assert json.loads(out)["stored"] == {"signin": 2}


@pytest.mark.parametrize(
    ("rows", "located"),
    [
        ("kind,id,customer,name\ncontact,k-1,c-9,Bo\n", "customer 'c-9'"),
        (
            "kind,id,customer,username,team\naccount,u-1,c-1,bo,x\n",
            ":2: team: not a column of an account",
        ),
        (
            "kind,id,customer,name,username\ncontact,k-1,c-1,Bo,bo\n",
            ":2: username: not a column of a contact",
        ),
        ("kind,id,customer\naccount,u-1,c-1\n", ":2: username: required"),
        ("kind,id,name\ncontact,k-1,Bo\n", ":2: customer: required"),
        ("kind,id,customer\nagent,a-1,c-1\n", ":2: customer: not a column of an agent"),
    ],
)
def test_a_bad_contact_or_account_row_is_refused_and_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, rows: str, located: str
) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(rows)
    code, _, err = run(capsys, "directory", "import", str(directory))
    assert code != 0
    assert located in " ".join(err.split())
    tables = table_counts(capsys)
    assert (tables["contacts"], tables["accounts"]) == (0, 0)


def test_contacts_may_name_a_customer_already_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import_directory_file(capsys, tmp_path, "kind,id,name\ncustomer,c-1,Ministry\n")
    lines: list[dict[str, Any]] = [
        {"kind": "contact", "id": "k-1", "customer": "c-1", "salesforce_id": CONTACT_ID + "IAP"}
    ]
    directory = jsonl(tmp_path / "contacts.jsonl", lines)
    code, out, _ = run(capsys, "directory", "import", str(directory), "--format", "json")
    assert code == 0, out
    assert (json.loads(out)["contacts"], json.loads(out)["identities"]) == (1, 1)


def test_a_csv_decoded_in_a_worker_process_stores_the_same(store: Store, tmp_path: Path) -> None:
    directory = tmp_path / "directory.csv"
    directory.write_text(DIRECTORY_CSV)
    import_directory(store, directory)
    ingest_file(store, jsonl(tmp_path / "c.jsonl", [DOCS_CASE]), source=source_named("salesforce"))
    log = tmp_path / "pages.csv.gz"
    log.write_bytes(gzip.compress(elf_csv(HEADER, ROWS)))
    summary = ingest_file(store, log, source=source_named("salesforce"), parallel=True)
    assert (summary.stored, summary.lines) == ({"access": 3}, 5)
    assert summary.unsupported == {"LightningPageView:Opportunity": 1}


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.lists(st.sampled_from(["", "x", '"', ",", "\n", "\r\n", "Login", "20240501"])),
            max_size=6,
        ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode()),
        st.lists(st.lists(st.text(max_size=5), max_size=4), max_size=5).map(
            lambda rows: elf_csv(["EVENT_TYPE", "REQUEST_ID", "TIMESTAMP"], rows)
        ),
    )
)
def test_random_files_read_or_are_refused_by_line_never_crash(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = tmp_path_factory.mktemp("random") / "random.csv"
    path.write_bytes(content)
    reader = VendorLogReader(path, source_named("salesforce"), Identities(), skip_invalid=True)
    refusal = ""
    try:
        for chunk in reader.decoded_chunks(3):
            assert chunk.records == []  # an empty directory maps nobody
    except InputError as exc:  # RecordError included: a bad header, csv's own errors
        refusal = str(exc)
    assert not refusal or refusal.startswith(f"{path}:")


def test_one_command_reads_the_cases_first_then_the_views_that_need_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import_directory_file(capsys, tmp_path, DIRECTORY_CSV)
    cases = jsonl(tmp_path / "cases.jsonl", [DOCS_CASE])
    view = _page("4exLFFQZ1234567890abzz", CASE + "AAA", "Case")
    log = tmp_path / "pages.csv"
    log.write_bytes(elf_csv(HEADER, [view]))
    code, out, _ = run(
        capsys, "ingest", "--from", "salesforce", str(cases), str(log), "--format", "json"
    )
    assert code == 0, out
    files = json.loads(out)["files"]
    assert [f["stored"] for f in files] == [{"ticket": 3}, {"access": 1}]
