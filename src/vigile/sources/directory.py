"""``vigile directory import FILE``: agents, customers, their contacts and accounts, with
their ids in each vendor.

A CSV file (header row) or JSON lines, with the columns of :data:`COLUMNS`
(docs/sources.md). Every row is checked first, errors naming ``FILE:LINE: column``;
then the agents, customers, contacts and accounts are recorded through the one write path
(:class:`vigile.record.Recorder`) and their vendor ids stored as identities. Both steps
are upserts: importing the file again changes nothing, and a newer file wins.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import select

from vigile.activitylog.codec import InvalidField, decode
from vigile.errors import InputError, RecordError
from vigile.model import Account, Agent, Contact, Customer
from vigile.record import Recorder
from vigile.sources.base import ACCOUNT, AGENT, CONTACT, CUSTOMER, Identities
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import write_transaction
from vigile.store.identities import (
    IdentityRow,
    read_identities,
    read_owners,
    read_ticket_customers,
    upsert_identities,
)

__all__ = ["COLUMNS", "DirectoryImport", "import_directory", "load_identities", "read_directory"]

_RECORD_COLUMNS = ("kind", "id", "name", "team", "employer", "country", "timezone", "tier")
#: Columns of contacts and accounts (``name`` and ``email`` are shared).
_PERSON_COLUMNS = ("customer", "email", "phone", "role", "username", "status")
#: Vendor id columns, and the identity system each names, for agents and customers.
_AGENT_IDS: Mapping[str, str] = {
    "okta_login": "okta",
    "entra_id": "entra",
    "zendesk_id": "zendesk",
    "salesforce_id": "salesforce",
    "ocsf_id": "ocsf",
}
_CUSTOMER_IDS: Mapping[str, str] = {
    "zendesk_id": "zendesk_org",
    "salesforce_id": "salesforce_account",
    "ocsf_id": "ocsf_customer",
}
_CONTACT_IDS: Mapping[str, str] = {
    "salesforce_id": "salesforce_contact",
    "zendesk_id": "zendesk_user",
}
_ACCOUNT_IDS: Mapping[str, str] = {"salesforce_id": "salesforce_user"}
COLUMNS = (*_RECORD_COLUMNS, *_PERSON_COLUMNS, *_AGENT_IDS)
#: Identity systems whose ids are compared in lower case: Okta logins, Entra object ids
#: (GUIDs), OCSF users and customers.
_LOWER = frozenset({"okta", "entra", "ocsf", "ocsf_customer"})
#: Identity systems of Salesforce ids, kept as their first 15 characters: an 18-character
#: id is the 15-character one (case-sensitive) and a checksum making it case-insensitive.
SALESFORCE_SYSTEMS = frozenset(
    {"salesforce", "salesforce_account", "salesforce_contact", "salesforce_user"}
)
_FOR_AGENTS = frozenset({*_RECORD_COLUMNS, *_AGENT_IDS})
_FOR_CUSTOMERS = frozenset({"kind", "id", "name", "tier", "country", *_CUSTOMER_IDS})
_CONTACT_FIELDS = ("kind", "id", "customer", "name", "email", "phone", "role")
_FOR_CONTACTS = frozenset({*_CONTACT_FIELDS, *_CONTACT_IDS})
_ACCOUNT_FIELDS = ("kind", "id", "customer", "username", "email", "status")
_FOR_ACCOUNTS = frozenset({*_ACCOUNT_FIELDS, *_ACCOUNT_IDS})
_IDS_OF: Mapping[str, Mapping[str, str]] = {
    AGENT: _AGENT_IDS,
    CUSTOMER: _CUSTOMER_IDS,
    CONTACT: _CONTACT_IDS,
    ACCOUNT: _ACCOUNT_IDS,
}
DirectoryRecord = Agent | Customer | Contact | Account


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectoryImport:
    """What a directory file held and what was stored."""

    source: str
    agents: int
    customers: int
    identities: int
    contacts: int = 0
    accounts: int = 0


def read_directory(path: Path) -> tuple[list[DirectoryRecord], list[IdentityRow]]:
    """Every row of a directory file, checked; :class:`RecordError` at the first bad one."""
    records: list[DirectoryRecord] = []
    identities: dict[tuple[str, str], tuple[int, IdentityRow]] = {}
    for line, row in _rows(path):
        try:
            record, ids = _row(row)
        except InvalidField as exc:
            raise RecordError(str(path), line, exc.field, exc.message) from None
        records.append(record)
        for identity in ids:
            key = identity[:2]
            if key in identities and identities[key][1] != identity:
                first = identities[key][0]
                message = f"{key[1]!r} already names another record on line {first}"
                raise RecordError(str(path), line, _column_of(identity), message)
            identities[key] = (line, identity)
    return records, [identity for _, identity in identities.values()]


def import_directory(store: Store, path: Path) -> DirectoryImport:
    """Store the directory file at ``path``: nothing if any row is invalid, or names a
    customer neither in the file nor in the store."""
    records, identities = read_directory(path)
    _check_customers(store, path, records)
    Recorder(store).record(records)
    with write_transaction(store.engine) as conn:
        upsert_identities(conn, identities)
    return DirectoryImport(
        source=str(path),
        agents=sum(isinstance(r, Agent) for r in records),
        customers=sum(isinstance(r, Customer) for r in records),
        identities=len(identities),
        contacts=sum(isinstance(r, Contact) for r in records),
        accounts=sum(isinstance(r, Account) for r in records),
    )


def load_identities(store: Store) -> Identities:
    """The store's vendor ids, for mapping a vendor's log; with the customer of each
    contact and account they name, and of each ticket opened."""
    return Identities(
        ids=read_identities(store.engine),
        owners=read_owners(store.engine),
        tickets=read_ticket_customers(store.engine),
    )


def _check_customers(store: Store, path: Path, records: list[DirectoryRecord]) -> None:
    """Every contact's and account's customer is in the file or in the store."""
    named = {r.customer for r in records if isinstance(r, Contact | Account)}
    missing = named - {r.id for r in records if isinstance(r, Customer)}
    if not missing:
        return
    table = t.customers
    with store.engine.connect() as conn:
        stored = set(conn.scalars(select(table.c.id).where(table.c.id.in_(sorted(missing)))))
    absent = sorted(missing - stored)
    if absent:
        raise InputError(
            f"{path}: customer {absent[0]!r} (named by a contact or an account) is neither "
            f"in the file nor in the store"
            + (f", nor {len(absent) - 1} more" if len(absent) > 1 else "")
        )


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    if path.suffix == ".jsonl":
        yield from _json_rows(path, text)
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    unknown = sorted(set(reader.fieldnames or ()) - set(COLUMNS))
    if not reader.fieldnames or "kind" not in reader.fieldnames or unknown:
        found = f"unknown columns {unknown}" if unknown else "no kind column"
        raise RecordError(str(path), 1, "header", f"{found}; columns are {', '.join(COLUMNS)}")
    for row in reader:
        if None in row:
            raise RecordError(str(path), reader.line_num, "row", "more cells than columns")
        yield reader.line_num, {k: v for k, v in row.items() if v}


def _json_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, str]]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise RecordError(str(path), line, "json", "not a JSON object") from None
        if type(obj) is not dict:
            raise RecordError(str(path), line, "json", "not a JSON object")
        unknown = sorted(set(obj) - set(COLUMNS))
        if unknown:
            raise RecordError(str(path), line, unknown[0], "unknown column")
        yield line, {k: v if type(v) is str else orjson.dumps(v).decode() for k, v in obj.items()}


def _row(row: dict[str, str]) -> tuple[DirectoryRecord, list[IdentityRow]]:
    kind = row.get("kind")
    if kind == AGENT:
        return _agent(row)
    if kind == CUSTOMER:
        return _customer(row)
    if kind == CONTACT:
        return _person(row, _FOR_CONTACTS, _CONTACT_FIELDS)
    if kind == ACCOUNT:
        return _person(row, _FOR_ACCOUNTS, _ACCOUNT_FIELDS)
    raise InvalidField("kind", f"expected agent, customer, contact or account, got {kind!r}")


def _only(row: dict[str, str], allowed: frozenset[str], kind: str) -> None:
    extra = sorted(set(row) - allowed)
    if extra:
        raise InvalidField(
            extra[0], f"not a column of {'an' if kind[0] in 'aeiou' else 'a'} {kind}"
        )


def _external(system: str, value: str) -> str:
    """A vendor id as the sources compare it."""
    if system in _LOWER:
        return value.lower()
    return value[:15] if system in SALESFORCE_SYSTEMS else value


def _ids(row: dict[str, str], kind: str, vigile_id: str) -> list[IdentityRow]:
    return [
        (system, _external(system, row[column]), kind, vigile_id)
        for column, system in _IDS_OF[kind].items()
        if column in row
    ]


def _agent(row: dict[str, str]) -> tuple[DirectoryRecord, list[IdentityRow]]:
    _only(row, _FOR_AGENTS, AGENT)
    spec: dict[str, object] = {k: row[k] for k in _RECORD_COLUMNS if k in row}
    if "tier" in spec:
        tier = str(spec["tier"])
        if not tier.isdigit():
            raise InvalidField("tier", f"expected 1, 2 or 3, got {tier!r}")
        spec["tier"] = int(tier)
    agent = decode(spec)
    assert isinstance(agent, Agent)
    return agent, _ids(row, AGENT, agent.id)


def _customer(row: dict[str, str]) -> tuple[DirectoryRecord, list[IdentityRow]]:
    _only(row, _FOR_CUSTOMERS, CUSTOMER)
    customer = decode({k: row[k] for k in ("kind", "id", "name", "tier", "country") if k in row})
    assert isinstance(customer, Customer)
    return customer, _ids(row, CUSTOMER, customer.id)


def _person(
    row: dict[str, str], allowed: frozenset[str], fields: tuple[str, ...]
) -> tuple[DirectoryRecord, list[IdentityRow]]:
    """A contact or an account: the spec's record, and its vendor ids."""
    kind = row["kind"]
    _only(row, allowed, kind)
    record = decode({k: row[k] for k in fields if k in row})
    assert isinstance(record, Contact | Account)
    return record, _ids(row, kind, record.id)


def _column_of(identity: IdentityRow) -> str:
    mapping = _IDS_OF[identity[2]]
    return next(column for column, system in mapping.items() if system == identity[0])
