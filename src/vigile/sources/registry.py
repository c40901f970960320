"""The sources ``vigile ingest --from`` knows, by name: one explicit registry.

Built-in sources are registered here with the same call a user's would use.
"""

from __future__ import annotations

from typing import Any

from vigile.errors import InputError
from vigile.sources.base import Source
from vigile.sources.entra import ENTRA
from vigile.sources.ocsf import OCSF
from vigile.sources.okta import OKTA
from vigile.sources.salesforce import SALESFORCE
from vigile.sources.zendesk import ZENDESK

__all__ = ["register_source", "source_named", "source_names"]

_SOURCES: dict[str, Source[Any]] = {}


def register_source(source: Source[Any]) -> None:
    """Make ``source`` readable as ``vigile ingest --from <source.name>``."""
    if source.name in _SOURCES:
        raise ValueError(f"a source named {source.name!r} is already registered")
    _SOURCES[source.name] = source


def source_named(name: str) -> Source[Any]:
    """The registered source called ``name``; :class:`InputError` listing them if none."""
    try:
        return _SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(_SOURCES))
        raise InputError(f"no source named {name!r} (known: {known})") from None


def source_names() -> tuple[str, ...]:
    return tuple(sorted(_SOURCES))


register_source(OKTA)
register_source(ZENDESK)
register_source(ENTRA)
register_source(OCSF)
register_source(SALESFORCE)
