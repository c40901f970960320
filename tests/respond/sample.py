"""A small simulated organisation for the response tests, and a slow reference of the
blast radius computed straight from the activity log (no SQL, no grouping)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import empty_database
from vigile.ingest import ingest_file
from vigile.model.times import format_rfc3339, parse_rfc3339
from vigile.respond import Scope, category_of
from vigile.settings import Settings
from vigile.simulate import SimulationConfig, simulate
from vigile.store import Store

#: The engines the module-scoped fixtures run on.
ENGINES = ("sqlite", "postgresql")
#: The nobelium scenario (an account takeover in the second half of May 2021), small.
CONFIG = SimulationConfig(scenario="nobelium", seed=11, days=30, agents=8, customers=60)


@dataclass(frozen=True, kw_only=True, slots=True)
class Simulated:
    """A store holding a simulation, its records and its answer key."""

    store: Store
    records: list[dict[str, Any]]
    truth: dict[str, Any]

    @property
    def attack(self) -> dict[str, Any]:
        return dict(self.truth["attacks"][0])


@contextmanager
def simulated_store(engine: str, folder: Path) -> Iterator[Simulated]:
    """The simulation ingested into a fresh store on ``engine``."""
    result = simulate(CONFIG, folder / "sim")
    lines = result.path.read_text().splitlines()
    records = [json.loads(line) for line in lines[1:] if line]
    truth = json.loads(result.truth_path.read_text())
    with empty_database(engine, folder) as url:
        (folder / "keys").mkdir()
        settings = Settings(db=url, ledger_key=str(folder / "keys" / "ledger.key"))
        with Store.open(settings, create=True) as store:
            ingest_file(store, result.path)
            yield Simulated(store=store, records=records, truth=truth)


def _in_scope(record: dict[str, Any], scope: Scope, device_sessions: set[str]) -> bool:
    moment = parse_rfc3339(record["time"])
    checks = [
        record["kind"] == "access",
        record["outcome"] == "allowed",
        scope.since <= moment <= scope.until,
        not scope.agents or record["agent"] in scope.agents,
        not scope.sessions or record["session"] in scope.sessions,
        not scope.ips or record.get("ip") in scope.ips,
        not scope.devices or record["session"] in device_sessions,
    ]
    return all(checks)


def reference_blast_radius(records: list[dict[str, Any]], scope: Scope) -> dict[str, Any]:
    """The blast radius by the letter of the issue, one record at a time."""
    tiers = {r["id"]: r for r in records if r["kind"] == "customer"}
    devices = {
        r["session"] for r in records if r["kind"] == "signin" and r.get("device") in scope.devices
    }
    seen: dict[str, dict[str, Any]] = {}
    accesses = 0
    for record in records:
        if record["kind"] != "access" or not _in_scope(record, scope, devices):
            continue
        accesses += 1
        search = record["action"] == "customer.search"
        for customer in set(record["results"]) if search else {record["customer"]}:
            _add(seen.setdefault(customer, _empty()), record, direct=not search)
    customers = [_entry(c, seen[c], tiers.get(c, {})) for c in sorted(seen)]
    return {"customers": customers, "summary": _summary(customers, accesses)}


def _empty() -> dict[str, Any]:
    keys = ("clear", "masked", "contacts", "accounts", "subscriptions", "times")
    return {key: set() if key != "times" else [] for key in keys} | {"actions": {}}


def _add(entry: dict[str, Any], record: dict[str, Any], *, direct: bool) -> None:
    entry["clear"].update(record["fields"])
    entry["masked"].update(record.get("masked_fields", []))
    entry["times"].append(parse_rfc3339(record["time"]))
    entry["actions"][record["action"]] = entry["actions"].get(record["action"], 0) + 1
    kind = record["action"].split(".")[0] + "s"
    if direct and record.get("object") and kind in entry:
        entry[kind].add(record["object"])


def _entry(customer: str, entry: dict[str, Any], directory: dict[str, Any]) -> dict[str, Any]:
    return {
        "customer": customer,
        "tier": directory.get("tier"),
        "country": directory.get("country"),
        "fields": sorted(entry["clear"]),
        "masked_fields": sorted(entry["masked"] - entry["clear"]),
        "categories": sorted({category_of(f) for f in entry["clear"]}),
        "contacts": sorted(entry["contacts"]),
        "accounts": sorted(entry["accounts"]),
        "subscriptions": sorted(entry["subscriptions"]),
        "first_access": format_rfc3339(min(entry["times"])),
        "last_access": format_rfc3339(max(entry["times"])),
        "accesses": len(entry["times"]),
        "actions": dict(sorted(entry["actions"].items())),
    }


def _summary(customers: list[dict[str, Any]], accesses: int) -> dict[str, Any]:
    def count(values: list[str]) -> dict[str, int]:
        return {v: values.count(v) for v in sorted(set(values))}

    return {
        "customers": len(customers),
        "accesses": accesses,
        "by_tier": count([c["tier"] or "unknown" for c in customers]),
        "by_country": count([c["country"] or "unknown" for c in customers]),
        "by_category": count([k for c in customers for k in c["categories"]]),
        "by_field": count([f for c in customers for f in c["fields"]]),
    }


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    """Run ``vigile ARGS``: exit code, stdout, stderr."""
    from vigile.cli.app import main  # noqa: PLC0415 - only the CLI tests need it

    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err
