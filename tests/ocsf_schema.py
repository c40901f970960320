"""Validate OCSF events against the official OCSF schema of the version they declare.

The validator is pydantic-ocsf (a test extra): it ships OCSF's own exported schemas
(``exports/schema.json`` of ocsf/ocsf-schema, versions 1.0.0 to 1.7.0, Apache-2.0) and
builds pydantic models of every class from them, offline. It checks the class's
attributes (types, required ones, enums, ``*_id`` / label siblings, ``type_uid``) and
the objects nested in them. Its models accept unknown attributes (``extra="allow"``);
an unknown attribute is a mistake in an event Vigile writes, so :func:`validate` fails
on any an object holds, and at the top level on any not in the schema's dictionary (the
models leave the base event's included attributes, ``time``, ``class_uid`` …, to that).
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import ocsf
from pydantic import BaseModel

#: OCSF class uid to the pydantic-ocsf class name.
CLASSES = {3002: "Authentication", 6003: "ApiActivity"}


def validate(event: dict[str, Any]) -> BaseModel:
    """The event as the model of its class at its declared version; raises when invalid."""
    version = event["metadata"]["version"]
    events = importlib.import_module(f"ocsf.v{version.replace('.', '_')}.events")
    model = getattr(events, CLASSES[event["class_uid"]]).model_validate(event)
    unknown = set(model.model_extra or {}) - set(_dictionary(version))
    assert not unknown, f"attributes not in OCSF {version}: {sorted(unknown)}"
    _no_extra(model, event["class_uid"])
    return model


def _no_extra(value: Any, where: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _no_extra(item, where)
    if not isinstance(value, BaseModel):
        return
    for name in type(value).model_fields:
        if name == "unmapped":  # OCSF's own place for what it has no attribute for
            continue
        child = getattr(value, name)
        if isinstance(child, BaseModel):
            assert not child.model_extra, f"{where}.{name}: unknown {sorted(child.model_extra)}"
        _no_extra(child, f"{where}.{name}")


@cache
def _dictionary(version: str) -> dict[str, Any]:
    path = Path(ocsf.__file__).parent / "schemas" / f"v{version.replace('.', '_')}.json"
    schema = json.loads(path.read_text())
    assert schema["version"] == version
    return dict(schema["dictionary"]["attributes"])
