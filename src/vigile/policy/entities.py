"""Cedar entities of the directory, parsed once and refreshed incrementally.

Parsing the whole directory costs milliseconds; evaluating against a parsed handle costs
microseconds. :class:`EntityCache` keeps one parsed handle. :meth:`EntityCache.ensure`
is given the entities a request is about (read from the store for the request anyway):
new ones are added to the handle (only they are parsed), and a changed one (an agent
moved to another tier) rebuilds the handle, so a decision never uses stale attributes.

The handle and the entities it holds are published together, as one immutable snapshot:
a request that finds its entities already known gets the handle that holds them, never an
older one, and a request that arrives while a rebuild is under way waits for it.
:meth:`EntityCache.ensure` returns that handle, for the decision to use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import cedarpy
import orjson

from vigile.model import Account, Agent, Contact, Customer, Subscription, ai_profile

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
        ai = ai_profile(record)
        if ai is not None:
            supervisor = ref("Agent", ai.supervisor) if ai.supervisor else None
            attrs |= _attrs(ai=True, model=ai.model, supervisor=supervisor)
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


def _put_all(known: dict[tuple[str, str], Entity], entities: Iterable[Entity]) -> list[Entity]:
    """Put ``entities`` (and the teams they name) in ``known``; returns what was put."""
    added: list[Entity] = []
    for entity in entities:
        known[_key(entity)] = entity
        added.append(entity)
        for parent in entity["parents"]:
            # Teams have no record of their own: they exist as soon as an agent names one.
            if parent["type"] == "Team" and ("Team", parent["id"]) not in known:
                team = {"uid": parent, "attrs": {}, "parents": []}
                known[("Team", parent["id"])] = team
                added.append(team)
    return added


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """A parsed handle and the entities it holds (never changed once published)."""

    known: Mapping[tuple[str, str], Entity]
    handle: cedarpy.Entities

    def holds(self, entities: Iterable[Entity]) -> bool:
        return all(self.known.get(_key(e)) == e for e in entities)


class EntityCache:
    """One parsed entity set, shared by every request and refreshed by replacing it."""

    def __init__(self, schema: cedarpy.Schema, entities: Iterable[Entity] = ()) -> None:
        # Parsing with the schema adds the action entities (the `view` and `data` groups).
        self._schema = schema
        self._lock = threading.Lock()
        known: dict[tuple[str, str], Entity] = {}
        _put_all(known, [{"uid": uid(*DIRECTORY), "attrs": {}, "parents": []}, *entities])
        self._snapshot = _Snapshot(known, self._parse(list(known.values())))
        self.rebuilds = 0

    @property
    def handle(self) -> cedarpy.Entities:
        """The latest parsed handle."""
        return self._snapshot.handle

    def ensure(self, entities: Iterable[Entity]) -> cedarpy.Entities:
        """A handle holding ``entities`` exactly as given (cheap when the latest does).

        Decide with the handle returned: a later call may replace the latest handle with
        one where these entities differ (another request read a newer record).
        """
        wanted = list(entities)
        snapshot = self._snapshot
        if snapshot.holds(wanted):
            return snapshot.handle
        with self._lock:
            snapshot = self._snapshot
            missing = [e for e in wanted if snapshot.known.get(_key(e)) != e]
            if not missing:  # another request published them while this one waited
                return snapshot.handle
            changed = any(_key(e) in snapshot.known for e in missing)
            known = dict(snapshot.known)
            added = _put_all(known, missing)
            if changed:
                self.rebuilds += 1
                handle = self._parse(list(known.values()))
            else:
                handle = snapshot.handle.with_added_json_str(orjson.dumps(added).decode())
            # One assignment publishes the handle and what it holds together.
            self._snapshot = _Snapshot(known, handle)
            return handle

    def __len__(self) -> int:
        return len(self._snapshot.known)

    def _parse(self, entities: list[Entity]) -> cedarpy.Entities:
        return cedarpy.Entities.from_json_str(orjson.dumps(entities).decode(), self._schema)
