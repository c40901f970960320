"""``vigile directory import FILE``: agents and customers with their ids in each vendor.

A CSV file (header row) or JSON lines, with the columns of :data:`COLUMNS`
(docs/sources.md). Every row is checked first, errors naming ``FILE:LINE: column``;
then the agents and customers are recorded through the one write path
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

from vigile.activitylog.codec import InvalidField, decode
from vigile.errors import InputError, RecordError
from vigile.model import Agent, Customer
from vigile.record import Recorder
from vigile.sources.base import AGENT, CUSTOMER, Identities
from vigile.store import Store
from vigile.store.engine import write_transaction
from vigile.store.identities import IdentityRow, read_identities, upsert_identities

__all__ = ["COLUMNS", "DirectoryImport", "import_directory", "load_identities", "read_directory"]

_RECORD_COLUMNS = ("kind", "id", "name", "team", "employer", "country", "timezone", "tier")
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
COLUMNS = (*_RECORD_COLUMNS, *_AGENT_IDS)
#: Identity systems whose ids are compared in lower case: Okta logins, Entra object ids
#: (GUIDs), OCSF users and customers.
_LOWER = frozenset({"okta", "entra", "ocsf", "ocsf_customer"})
_FOR_CUSTOMERS = frozenset({"kind", "id", "name", "tier", "country", *_CUSTOMER_IDS})


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectoryImport:
    """What a directory file held and what was stored."""

    source: str
    agents: int
    customers: int
    identities: int


def read_directory(path: Path) -> tuple[list[Agent | Customer], list[IdentityRow]]:
    """Every row of a directory file, checked; :class:`RecordError` at the first bad one."""
    records: list[Agent | Customer] = []
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
    """Store the directory file at ``path``: nothing if any row is invalid."""
    records, identities = read_directory(path)
    Recorder(store).record(records)
    with write_transaction(store.engine) as conn:
        upsert_identities(conn, identities)
    return DirectoryImport(
        source=str(path),
        agents=sum(isinstance(r, Agent) for r in records),
        customers=sum(isinstance(r, Customer) for r in records),
        identities=len(identities),
    )


def load_identities(store: Store) -> Identities:
    """The store's vendor ids, for mapping a vendor's log."""
    return Identities(ids=read_identities(store.engine))


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


def _row(row: dict[str, str]) -> tuple[Agent | Customer, list[IdentityRow]]:
    kind = row.get("kind")
    if kind == "agent":
        return _agent(row)
    if kind == "customer":
        return _customer(row)
    raise InvalidField("kind", f"expected agent or customer, got {kind!r}")


def _agent(row: dict[str, str]) -> tuple[Agent | Customer, list[IdentityRow]]:
    spec: dict[str, object] = {k: row[k] for k in _RECORD_COLUMNS if k in row}
    if "tier" in spec:
        tier = str(spec["tier"])
        if not tier.isdigit():
            raise InvalidField("tier", f"expected 1, 2 or 3, got {tier!r}")
        spec["tier"] = int(tier)
    agent = decode(spec)
    assert isinstance(agent, Agent)
    ids = [
        (system, row[column].lower() if system in _LOWER else row[column], AGENT, agent.id)
        for column, system in _AGENT_IDS.items()
        if column in row
    ]
    return agent, ids


def _customer(row: dict[str, str]) -> tuple[Agent | Customer, list[IdentityRow]]:
    extra = sorted(set(row) - _FOR_CUSTOMERS)
    if extra:
        raise InvalidField(extra[0], "not a column of a customer")
    customer = decode({k: row[k] for k in ("kind", "id", "name", "tier", "country") if k in row})
    assert isinstance(customer, Customer)
    ids = [
        (system, row[column].lower() if system in _LOWER else row[column], CUSTOMER, customer.id)
        for column, system in _CUSTOMER_IDS.items()
        if column in row
    ]
    return customer, ids


def _column_of(identity: IdentityRow) -> str:
    mapping = _AGENT_IDS if identity[2] == AGENT else _CUSTOMER_IDS
    return next(column for column, system in mapping.items() if system == identity[0])
