"""What every source of vendor logs is: a typed vendor record and one pure mapping.

A :class:`Source` parses one JSON object of the vendor's log into its typed record
(field names as the vendor spells them), raising :class:`InvalidField` naming the field,
and maps that record to Vigile's records with :meth:`Source.map`, a pure function of the
record and the directory's :class:`Identities`. A mapping has three outcomes, none of
them a guess:

- :class:`Mapped`: the Vigile records the vendor record stands for;
- :class:`Unmapped`: a supported record whose actor (or an other field Vigile needs) the
  directory or the record cannot supply: kept aside, counted, reported with an example;
- :class:`Skipped`: a type of record Vigile does not read: counted by type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeVar, runtime_checkable

from vigile.activitylog.codec import InvalidField
from vigile.model import Record

__all__ = [
    "ACCOUNT",
    "AGENT",
    "CONTACT",
    "CUSTOMER",
    "Identities",
    "InvalidField",
    "MapResult",
    "Mapped",
    "Skipped",
    "Source",
    "TabularSource",
    "Unmapped",
]

AGENT = "agent"
CUSTOMER = "customer"
CONTACT = "contact"
ACCOUNT = "account"
V = TypeVar("V")


@dataclass(frozen=True, kw_only=True, slots=True)
class Mapped:
    """The Vigile records one vendor record stands for."""

    records: tuple[Record, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Unmapped:
    """A supported vendor record that cannot become Vigile records: ``reason`` says why
    (the same for every record of its kind, so it can be counted), ``example`` which."""

    reason: str
    example: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Skipped:
    """A vendor record of a type Vigile does not read (``event_type``, counted by it)."""

    event_type: str


MapResult = Mapped | Unmapped | Skipped


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True, slots=True)
class Identities:
    """The directory's vendor ids: ``(system, external id) -> (kind, Vigile id)``,
    ``kind`` being :data:`AGENT`, :data:`CUSTOMER`, :data:`CONTACT` or :data:`ACCOUNT`.
    Systems' ids are compared as each source normalises them (Okta logins in lower case).

    A vendor log names a contact or an account where Vigile's access needs its customer
    too: ``owners`` holds the customer of each contact and account the ids name
    (``(kind, id) -> customer``), and ``tickets`` the customer of each ticket already
    opened (``ticket -> customer``), so the mapping stays a pure function of these."""

    ids: Mapping[tuple[str, str], tuple[str, str]] = field(default_factory=_empty)
    owners: Mapping[tuple[str, str], str] = field(default_factory=_empty)
    tickets: Mapping[str, str] = field(default_factory=_empty)

    def agent(self, system: str, external_id: str) -> str | None:
        """The agent a vendor id names, if the directory names one."""
        found = self.ids.get((system, external_id))
        return found[1] if found is not None and found[0] == AGENT else None

    def named(self, system: str, external_id: str) -> tuple[str, str] | None:
        """``(kind, Vigile id)`` of what a vendor id names, if anything."""
        return self.ids.get((system, external_id))

    def customer_of(self, kind: str, vigile_id: str) -> str | None:
        """The customer a record belongs to: itself for a customer, the owner of a
        contact or an account."""
        if kind == CUSTOMER:
            return vigile_id
        return self.owners.get((kind, vigile_id))


class Source(Protocol[V]):
    """A vendor's log: its name (``vigile ingest --from NAME``), how to read one of its
    JSON objects, and the pure mapping to Vigile's records."""

    @property
    def name(self) -> str: ...

    def parse(self, obj: object) -> V:
        """The typed record of one JSON object; :class:`InvalidField` names what is wrong."""
        ...

    def map(self, record: V, identities: Identities) -> MapResult:
        """What ``record`` is in Vigile's terms; pure, never raises on a parsed record."""
        ...


@runtime_checkable
class TabularSource(Protocol):
    """A source whose files may also be CSV with a header row (Salesforce's Event Log
    Files): each row, its empty cells left out, is parsed as the JSON object of the same
    keys would be. A file is CSV when its first byte (after any gzip) is not ``{``."""

    def check_header(self, columns: Sequence[str]) -> None:
        """:class:`InvalidField` naming a column the header must have and lacks."""
        ...
