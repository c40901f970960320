"""The simulated organisation as vendors' logs: ``vigile simulate --as okta,salesforce``.

The native activity log the simulator wrote is read back once and each record written as
the vendor that would hold it logs it, plus the directory file naming everyone by the
vendors' ids (docs/sources.md). Each writer is the inverse of an adapter's mapping
(:mod:`vigile.sources`), writing only fields the vendor has: ingesting the files with
``vigile directory import`` and ``vigile ingest --from VENDOR`` gives back what the vendors
can carry of the native log, and nothing smuggled. Who holds what:

- sign-ins: Okta (``user.session.start``), and Salesforce (``LoginEvent``: the sign-ins
  that reach it, all of them without Okta in front);
- ticket steps: Zendesk (Ticket Audits), else Salesforce (Case and CaseHistory records);
- accesses to customer data: Salesforce (record page views, searches), nobody else.

A record no chosen vendor holds is not written and is counted in
:attr:`VendorFiles.not_written`. The output is a function of the native log: the same seed
gives the same files.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from vigile.errors import InputError, OutputError
from vigile.simulate.vendors.directory import write_directory
from vigile.simulate.vendors.ids import VendorIds
from vigile.simulate.vendors.okta import okta_signin
from vigile.simulate.vendors.salesforce import PAGE_VIEW_COLUMNS, SEARCH_COLUMNS, SalesforceLog
from vigile.simulate.vendors.zendesk import ZendeskTickets

__all__ = ["DIRECTORY_FILE", "VENDORS", "VendorFiles", "parse_vendors", "write_vendor_logs"]

#: The vendors the simulator can write, in the order ``--as`` lists them.
VENDORS = ("okta", "zendesk", "salesforce")
DIRECTORY_FILE = "directory.csv"
_DIRECTORY_KINDS = frozenset({"agent", "customer", "contact", "account", "subscription"})
# Every file each vendor may get a day, in the order they must be ingested (Salesforce's
# Cases before the pages that cite them: the numbers keep a shell's glob in that order);
# CSV files with their columns.
_FILES: Mapping[str, tuple[tuple[str, tuple[str, ...] | None], ...]] = {
    "okta": (("okta.jsonl", None),),
    "zendesk": (("zendesk.jsonl", None),),
    "salesforce": (
        ("salesforce-1-Case.jsonl", None),
        ("salesforce-2-LoginEvent.jsonl", None),
        ("salesforce-3-LightningPageView.csv", PAGE_VIEW_COLUMNS),
        ("salesforce-4-Search.csv", SEARCH_COLUMNS),
    ),
}


def parse_vendors(text: str | Iterable[str]) -> tuple[str, ...]:
    """The vendors a ``--as`` value names (comma-separated), in :data:`VENDORS` order."""
    names = text.split(",") if isinstance(text, str) else list(text)
    chosen = {n.strip().lower() for n in names if n.strip()}
    unknown = sorted(chosen - set(VENDORS))
    if unknown or not chosen:
        what = f"unknown vendor {unknown[0]!r}" if unknown else "no vendor named"
        raise InputError(f"--as: {what}; the simulator writes {', '.join(VENDORS)}")
    return tuple(v for v in VENDORS if v in chosen)


@dataclass(frozen=True, kw_only=True, slots=True)
class VendorFiles:
    """What :func:`write_vendor_logs` wrote: the directory file; the vendors' files, one
    folder a day (``vendors/YYYY-MM-DD/``), as ``(vendor, path)`` in the order to ingest
    them (day by day, as logs pulled daily are; within a day Okta, Zendesk, then
    Salesforce's Cases before the pages that cite them); how many records each vendor
    got; and the native records no chosen vendor holds, by kind."""

    directory: Path
    files: tuple[tuple[str, Path], ...]
    written: Mapping[str, int]
    not_written: Mapping[str, int] = field(default_factory=dict)

    @property
    def days(self) -> int:
        """How many days' folders were written."""
        return len({path.parent for _, path in self.files})

    def paths(self, vendor: str) -> tuple[Path, ...]:
        """Every file of ``vendor``, in order."""
        return tuple(path for name, path in self.files if name == vendor)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open("rb") as lines:
            for line in lines:
                if line.strip():
                    yield orjson.loads(line)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the activity log: {exc}") from exc


class _Sink:
    """One output file, written to ``NAME.part`` and renamed once everything is written."""

    def __init__(self, path: Path, columns: tuple[str, ...] | None) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.count = 0
        self.csv: Any = None
        path.parent.mkdir(parents=True, exist_ok=True)
        if columns is None:
            self.file: IO[Any] = self.part.open("wb")
        else:
            self.file = self.part.open("w", encoding="utf-8", newline="")
            self.csv = csv.DictWriter(self.file, fieldnames=columns, extrasaction="raise")
            self.csv.writeheader()

    def write(self, obj: Mapping[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerow(obj)
        else:
            self.file.write(orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE))
        self.count += 1


_ORDER = {name: n for n, name in enumerate(name for v in VENDORS for name, _ in _FILES[v])}
_VENDOR_OF = {name: vendor for vendor in VENDORS for name, _ in _FILES[vendor]}
_COLUMNS = {name: columns for vendor in VENDORS for name, columns in _FILES[vendor]}


class _Output:
    """The vendors' files of each day, opened when a day's first record for them comes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "vendors"
        self.day = ""
        self.open: dict[str, _Sink] = {}
        self.done: list[_Sink] = []

    def start_day(self, day: str) -> None:
        """Close the previous day's files: ``day``'s records follow."""
        self.close_day()
        self.day = day

    def close_day(self) -> None:
        for sink in sorted(self.open.values(), key=lambda s: _ORDER[s.path.name]):
            sink.file.close()
            self.done.append(sink)
        self.open = {}

    def write(self, name: str, obj: Mapping[str, Any]) -> None:
        sink = self.open.get(name)
        if sink is None:
            sink = self.open[name] = _Sink(self.folder / self.day / name, _COLUMNS[name])
        sink.write(obj)

    def publish(self) -> tuple[tuple[str, Path], ...]:
        self.close_day()
        for sink in self.done:
            os.replace(sink.part, sink.path)
        return tuple((_VENDOR_OF[sink.path.name], sink.path) for sink in self.done)

    def discard(self) -> None:
        for sink in [*self.open.values(), *self.done]:
            sink.file.close()
            sink.part.unlink(missing_ok=True)

    def written(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for sink in self.done:
            counts[_VENDOR_OF[sink.path.name]] += sink.count
        return dict(counts)


@dataclass(slots=True)
class _Translation:
    """Each native record to the chosen vendors' files."""

    vendors: tuple[str, ...]
    out: _Output
    ids: VendorIds = field(default_factory=VendorIds)
    directory: list[dict[str, Any]] = field(default_factory=list)
    not_written: Counter[str] = field(default_factory=Counter)
    zendesk: ZendeskTickets = field(init=False)
    salesforce: SalesforceLog | None = field(init=False)

    def __post_init__(self) -> None:
        self.zendesk = ZendeskTickets(self.ids)
        self.salesforce = (
            SalesforceLog(self.ids, all_signins="okta" not in self.vendors,
                          cases="zendesk" not in self.vendors)
            if "salesforce" in self.vendors else None
        )  # fmt: skip

    def add(self, record: dict[str, Any]) -> None:
        kind = record.get("kind")
        if kind in ("signin", "ticket", "access") and record["time"][:10] != self.out.day:
            self.end_day()
            self.out.start_day(record["time"][:10])
        if kind in _DIRECTORY_KINDS:
            self.directory.append(record)
            _register(record, self.ids)
        elif kind == "signin":
            self._signin(record)
        elif kind == "ticket":
            self._ticket(record)
        elif kind == "access":
            self._access(record)
        elif kind != "header":
            self.not_written[str(kind)] += 1

    def _signin(self, record: dict[str, Any]) -> None:
        held = False
        if "okta" in self.vendors:
            self.out.write("okta.jsonl", okta_signin(record, self.ids))
            held = True
        if self.salesforce is not None:
            event = self.salesforce.login_event(record)
            if event is not None:
                self.out.write("salesforce-2-LoginEvent.jsonl", event)
                held = True
        if not held:
            self.not_written["signin"] += 1

    def _ticket(self, record: dict[str, Any]) -> None:
        if "zendesk" in self.vendors:
            audit = self.zendesk.audit(record)
            if audit is not None:
                self.out.write("zendesk.jsonl", audit)
                return
        elif self.salesforce is not None:
            for row in self.salesforce.ticket(record):
                self.out.write("salesforce-1-Case.jsonl", row)
            return
        self.not_written["ticket"] += 1

    def _access(self, record: dict[str, Any]) -> None:
        found = self.salesforce.access(record) if self.salesforce is not None else None
        if found is None:
            self.not_written["access"] += 1
            return
        event_type, row = found
        name = (
            "salesforce-3-LightningPageView.csv"
            if event_type == "LightningPageView"
            else "salesforce-4-Search.csv"
        )
        self.out.write(name, row)

    def end_day(self) -> None:
        """The day's new Cases, as a query of the Cases created that day returns them at
        its end (a later change is in the CaseHistory of its day)."""
        if self.salesforce is not None and self.salesforce.cases:
            for case in self.salesforce.case_records():
                self.out.write("salesforce-1-Case.jsonl", case)


def write_vendor_logs(activity: Path, folder: Path, vendors: Iterable[str]) -> VendorFiles:
    """Write the native log at ``activity`` as ``vendors``' logs into ``folder``: every
    file, or none (an error leaves no file behind)."""
    chosen = parse_vendors(vendors)
    out = _Output(folder)
    translation = _Translation(chosen, out)
    directory = folder / DIRECTORY_FILE
    try:
        for record in _records(activity):
            translation.add(record)
        translation.end_day()
        write_directory(directory, translation.directory, translation.ids, chosen)
        files = out.publish()
    except OSError as exc:
        out.discard()
        raise OutputError(f"{folder}: cannot write the vendors' logs: {exc}") from exc
    except BaseException:
        out.discard()
        raise
    return VendorFiles(
        directory=directory,
        files=files,
        written=out.written(),
        not_written=dict(translation.not_written),
    )


def _register(record: Mapping[str, Any], ids: VendorIds) -> None:
    kind, key = record["kind"], record["id"]
    if kind == "agent":
        ids.add_agent(key, record.get("employer"), record.get("name"))
    elif kind == "customer":
        ids.add_customer(key)
    elif kind == "contact":
        ids.add_contact(key)
    elif kind == "account":
        ids.add_account(key)
    elif kind == "subscription":
        ids.add_subscription(key)
