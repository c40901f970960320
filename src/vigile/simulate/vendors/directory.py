"""The directory file (docs/sources.md, "The directory file") of a simulated organisation.

Agents and customers from the native log's directory records, with the ids the chosen
vendors give them (:mod:`vigile.simulate.vendors.ids`), in the columns
``vigile directory import`` reads; with Salesforce, the customers' contacts and accounts
too, by their Salesforce ids (the pages Salesforce logs are theirs). The native directory
holds more than the file can: agents' shifts and customers' subscriptions have no rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vigile.simulate.vendors.ids import VendorIds

__all__ = ["write_directory"]

_AGENT = ("name", "team", "employer", "country", "timezone", "tier")
_CUSTOMER = ("name", "tier", "country")


_CONTACT = ("customer", "name", "email", "phone", "role")
_ACCOUNT = ("customer", "username", "email", "status")


def _columns(vendors: Iterable[str]) -> list[str]:
    chosen = set(vendors)
    columns = ["kind", "id", "name", "team", "employer", "country", "timezone", "tier"]
    if "salesforce" in chosen:
        columns += ["customer", "email", "phone", "role", "username", "status"]
    if "okta" in chosen:
        columns.append("okta_login")
    if "zendesk" in chosen:
        columns.append("zendesk_id")
    if "salesforce" in chosen:
        columns.append("salesforce_id")
    return columns


def _agent_row(record: Mapping[str, Any], ids: VendorIds, columns: list[str]) -> dict[str, Any]:
    agent = record["id"]
    row = {"kind": "agent", "id": agent, **{k: record.get(k) for k in _AGENT}}
    vendor = {"okta_login": ids.okta_login(agent), "zendesk_id": ids.zendesk_user(agent),
              "salesforce_id": ids.salesforce_user(agent)}  # fmt: skip
    row.update({k: v for k, v in vendor.items() if k in columns})
    return row


def _customer_row(record: Mapping[str, Any], ids: VendorIds, columns: list[str]) -> dict[str, Any]:
    customer = record["id"]
    row = {"kind": "customer", "id": customer, **{k: record.get(k) for k in _CUSTOMER}}
    vendor = {"zendesk_id": ids.zendesk_org(customer),
              "salesforce_id": ids.salesforce_account(customer)}  # fmt: skip
    row.update({k: v for k, v in vendor.items() if k in columns})
    return row


def _contact_row(record: Mapping[str, Any], ids: VendorIds) -> dict[str, Any]:
    contact = record["id"]
    return {"kind": "contact", "id": contact, **{k: record.get(k) for k in _CONTACT},
            "salesforce_id": ids.salesforce_contact(contact)}  # fmt: skip


def _account_row(record: Mapping[str, Any], ids: VendorIds) -> dict[str, Any]:
    account = record["id"]
    return {"kind": "account", "id": account, **{k: record.get(k) for k in _ACCOUNT},
            "salesforce_id": ids.salesforce_account_user(account)}  # fmt: skip


def write_directory(
    path: Path, records: Iterable[Mapping[str, Any]], ids: VendorIds, vendors: Iterable[str]
) -> int:
    """Write the agents and customers of ``records`` to ``path`` (CSV); how many rows."""
    columns = _columns(vendors)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        for record in records:
            if record["kind"] == "agent":
                writer.writerow(_agent_row(record, ids, columns))
            elif record["kind"] == "customer":
                writer.writerow(_customer_row(record, ids, columns))
            elif record["kind"] == "contact" and "salesforce_id" in columns:
                writer.writerow(_contact_row(record, ids))
            elif record["kind"] == "account" and "salesforce_id" in columns:
                writer.writerow(_account_row(record, ids))
            else:
                continue
            rows += 1
    return rows
