"""The simulated organisation as the vendors' logs: ``vigile simulate --as okta,zendesk``.

The native activity log the simulator wrote is read back once and each record written as
the vendor that would hold it logs it, plus the directory file naming everyone by the
vendors' ids (docs/sources.md). Each writer is the inverse of an adapter's mapping
(:mod:`vigile.sources`), writing only fields the vendor has: ingesting the files with
``vigile directory import`` and ``vigile ingest --from VENDOR`` gives back what the vendor
can carry of the native log, and nothing smuggled. Who holds what:

- sign-ins: Okta (``user.session.start``), else Salesforce (Login rows);
- ticket steps: Zendesk (Ticket Audits), else Salesforce (Case and CaseHistory records);
- accesses to customer data: Salesforce (record page views), nobody else.

A record no chosen vendor holds is not written and is counted in
:attr:`VendorFiles.not_written`. The output is a function of the native log: the same seed
gives the same files.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from vigile.errors import InputError, OutputError
from vigile.simulate.vendors.directory import write_directory
from vigile.simulate.vendors.ids import VendorIds
from vigile.simulate.vendors.okta import okta_signin
from vigile.simulate.vendors.zendesk import ZendeskTickets

__all__ = ["DIRECTORY_FILE", "VENDORS", "VendorFiles", "parse_vendors", "write_vendor_logs"]

#: The vendors the simulator can write, in the order ``--as`` lists them.
VENDORS = ("okta", "zendesk")
DIRECTORY_FILE = "directory.csv"
_FILES = {"okta": "okta.jsonl", "zendesk": "zendesk.jsonl"}
_DIRECTORY_KINDS = frozenset({"agent", "customer", "contact", "account", "subscription"})


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
    """What :func:`write_vendor_logs` wrote: the directory file, each vendor's files (by
    the ``--from`` name that reads them), how many records each holds, and the native
    records no chosen vendor could hold, by kind."""

    directory: Path
    logs: Mapping[str, tuple[Path, ...]]
    written: Mapping[str, int]
    not_written: Mapping[str, int] = field(default_factory=dict)


def _holder(kind: str, vendors: tuple[str, ...]) -> str | None:
    for vendor in {"signin": ("okta", "salesforce"), "ticket": ("zendesk", "salesforce"),
                   "access": ("salesforce",)}.get(kind, ()):  # fmt: skip
        if vendor in vendors:
            return vendor
    return None


def _records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open("rb") as lines:
            for line in lines:
                if line.strip():
                    yield orjson.loads(line)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the activity log: {exc}") from exc


class _Writers:
    """The open vendor files, written to ``*.part`` and renamed when all are complete."""

    def __init__(self, folder: Path, vendors: tuple[str, ...], stack: ExitStack) -> None:
        self.paths = {v: folder / _FILES[v] for v in vendors}
        self.files: dict[str, IO[bytes]] = {
            v: stack.enter_context(p.with_suffix(p.suffix + ".part").open("wb"))
            for v, p in self.paths.items()
        }
        self.written: Counter[str] = Counter()

    def write(self, vendor: str, obj: Mapping[str, Any]) -> None:
        self.files[vendor].write(orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE))
        self.written[vendor] += 1

    def publish(self) -> None:
        for path in self.paths.values():
            os.replace(path.with_suffix(path.suffix + ".part"), path)

    def discard(self) -> None:
        for path in self.paths.values():
            path.with_suffix(path.suffix + ".part").unlink(missing_ok=True)


def write_vendor_logs(activity: Path, folder: Path, vendors: Iterable[str]) -> VendorFiles:
    """Write the native log at ``activity`` as ``vendors``' logs into ``folder``."""
    chosen = parse_vendors(vendors)
    ids = VendorIds()
    directory: list[dict[str, Any]] = []
    zendesk = ZendeskTickets(ids)
    not_written: Counter[str] = Counter()
    with ExitStack() as stack:
        try:
            writers = _Writers(folder, chosen, stack)
        except OSError as exc:
            raise OutputError(f"{folder}: cannot write the vendors' logs: {exc}") from exc
        try:
            for record in _records(activity):
                kind = record.get("kind")
                if kind in _DIRECTORY_KINDS:
                    directory.append(record)
                    _register(record, ids)
                    continue
                holder = _holder(str(kind), chosen)
                if holder is None:
                    if kind != "header":
                        not_written[str(kind)] += 1
                    continue
                if holder == "okta":
                    writers.write("okta", okta_signin(record, ids))
                elif holder == "zendesk":
                    audit = zendesk.audit(record)
                    if audit is not None:
                        writers.write("zendesk", audit)
            directory_path = folder / DIRECTORY_FILE
            write_directory(directory_path, directory, ids, chosen)
        except OSError as exc:
            writers.discard()
            raise OutputError(f"{folder}: cannot write the vendors' logs: {exc}") from exc
        except BaseException:
            writers.discard()
            raise
    writers.publish()
    return VendorFiles(
        directory=directory_path,
        logs={v: (p,) for v, p in writers.paths.items()},
        written=dict(writers.written),
        not_written=dict(not_written),
    )


def _register(record: Mapping[str, Any], ids: VendorIds) -> None:
    kind = record["kind"]
    if kind == "agent":
        ids.add_agent(record["id"], record.get("employer"), record.get("name"))
    elif kind == "customer":
        ids.add_customer(record["id"])
    elif kind == "contact":
        ids.add_contact(record["id"])
