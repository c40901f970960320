"""Cedar entities of the directory, parsed once and refreshed incrementally.

Parsing the whole directory costs milliseconds; evaluating against a parsed handle costs
microseconds. :class:`EntityCache` keeps one parsed handle. :meth:`EntityCache.ensure`
is given the entities a request is about (read from the store for the request anyway):
new ones are added to the handle (only they are parsed), and a changed one (an agent
moved to another tier) rebuilds the handle, so a decision never uses stale attributes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import cedarpy
import orjson

from vigile.model import Account, Agent, Contact, Customer, Subscription

__all__ = ["DIRECTORY", "EntityCache", "entity_of", "ref", "uid"]

Entity = dict[str, Any]
#: The resource of a search: the customer directory as a whole.
DIRECTORY = ("Directory", "customers")


def uid(kind: str, key: str) -> dict[str, str]:
    """A Cedar entity uid."""
    return {"type": kind, "id": key}


def ref(kind: str, key: str) -> dict[str, dict[str, str]]:
    """A reference to an entity inside attributes or a context."""
    return {"__entity": uid(kind, key)}


def _attrs(**values: object) -> dict[str, object]:
    return {key: value for key, value in values.items() if value is not None}


def entity_of(record: Agent | Customer | Contact | Account | Subscription) -> Entity:
    """The Cedar entity of a directory record (objects are ``in`` their customer)."""
    if isinstance(record, Agent):
        parents = [uid("Team", record.team)] if record.team else []
        attrs = _attrs(tier=record.tier, team=record.team)
        return {"uid": uid("Agent", record.id), "attrs": attrs, "parents": parents}
    if isinstance(record, Customer):
        attrs = _attrs(tier=record.tier, country=record.country)
        return {"uid": uid("Customer", record.id), "attrs": attrs, "parents": []}
    kind = type(record).__name__
    attrs = _attrs(role=record.role) if isinstance(record, Contact) else {}
    return {
        "uid": uid(kind, record.id),
        "attrs": attrs,
        "parents": [uid("Customer", record.customer)],
    }


def _key(entity: Entity) -> tuple[str, str]:
    return (entity["uid"]["type"], entity["uid"]["id"])


class EntityCache:
    """One parsed entity set, shared by every request and refreshed in place."""

    def __init__(self, schema: cedarpy.Schema, entities: Iterable[Entity] = ()) -> None:
        # Parsing with the schema adds the action entities (the `view` and `data` groups).
        self._schema = schema
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], Entity] = {}
        self._put_all([{"uid": uid(*DIRECTORY), "attrs": {}, "parents": []}, *entities])
        self.handle = self._parse(list(self._known.values()))
        self.rebuilds = 0

    def ensure(self, entities: Iterable[Entity]) -> None:
        """Make the handle hold ``entities`` exactly as given (cheap when it does)."""
        wanted = [e for e in entities if self._known.get(_key(e)) != e]
        if not wanted:
            return
        with self._lock:
            wanted = [e for e in wanted if self._known.get(_key(e)) != e]
            changed = any(_key(e) in self._known for e in wanted)
            added = self._put_all(wanted)
            if changed:
                self.rebuilds += 1
                self.handle = self._parse(list(self._known.values()))
            elif added:
                self.handle = self.handle.with_added_json_str(orjson.dumps(added).decode())

    def __len__(self) -> int:
        return len(self._known)

    def _put_all(self, entities: Iterable[Entity]) -> list[Entity]:
        """Remember ``entities`` (and the teams they name); returns what was put."""
        added: list[Entity] = []
        for entity in entities:
            self._known[_key(entity)] = entity
            added.append(entity)
            for parent in entity["parents"]:
                # Teams have no record of their own: they exist as soon as an agent names one.
                if parent["type"] == "Team" and ("Team", parent["id"]) not in self._known:
                    team = {"uid": parent, "attrs": {}, "parents": []}
                    self._known[("Team", parent["id"])] = team
                    added.append(team)
        return added

    def _parse(self, entities: list[Entity]) -> cedarpy.Entities:
        return cedarpy.Entities.from_json_str(orjson.dumps(entities).decode(), self._schema)
