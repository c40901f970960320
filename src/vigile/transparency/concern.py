"""Pure rules of what a customer may see of an access: which fields, which agent details,
whether the ledger entry itself may be disclosed, and the time window of a listing."""

from __future__ import annotations

from datetime import datetime

from vigile.model import INCIDENT_FIELD, Access, Action, Agent, ai_profile
from vigile.model.times import parse_rfc3339
from vigile.transparency.errors import WindowError
from vigile.transparency.model import AccessEntry, AccessProof

__all__ = [
    "SEARCH_EXPOSED_FIELDS",
    "concerning_fields",
    "discloses_other_customers",
    "entry_of",
    "incident_of",
    "parse_window",
]

#: What a search shows of each customer it lists; the rest of its fields are about others.
SEARCH_EXPOSED_FIELDS = frozenset({"customer.name"})


def entry_of(
    access: Access, *, customer_id: str, agent: Agent | None, proof: AccessProof
) -> AccessEntry:
    """The access as customer ``customer_id`` sees it.

    Only the agent's pseudonymous id, employer and country are copied from the
    directory: the agent's name never leaves this function.
    """
    fields, masked = concerning_fields(access)
    return AccessEntry(
        time=access.time,
        event_id=access.id,
        agent=access.agent,
        agent_employer=agent.employer if agent else None,
        agent_country=agent.country if agent else None,
        session=access.session,
        ip=access.ip,
        action=access.action,
        fields=fields,
        masked_fields=masked,
        object=access.object,
        reason=access.reason,
        ticket=access.ticket,
        outcome=access.outcome,
        deny_reason=access.deny_reason,
        proof=proof,
        incident=incident_of(access),
        agent_kind=_kind(agent),
    )


def _kind(agent: Agent | None) -> str | None:
    """``AI agent of team X`` for an AI agent (a person: ``None``)."""
    if agent is None or ai_profile(agent) is None:
        return None
    return f"AI agent of team {agent.team}" if agent.team else "AI agent"


def incident_of(access: Access) -> str | None:
    """The incident that justified the access (an analyst's read), if one did."""
    value = access.extra.get(INCIDENT_FIELD)
    return value if isinstance(value, str) else None


def concerning_fields(access: Access) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(fields in clear, fields masked)`` of the concerned customer's data.

    A search shows each listed customer's name only, so only that field concerns any
    one of them; a direct access concerns its one customer entirely.
    """
    if access.action is not Action.CUSTOMER_SEARCH:
        return access.fields, access.masked_fields
    return (
        tuple(f for f in access.fields if f in SEARCH_EXPOSED_FIELDS),
        tuple(f for f in access.masked_fields if f in SEARCH_EXPOSED_FIELDS),
    )


def discloses_other_customers(access: Access) -> bool:
    """Whether the access's ledger entry speaks of other customers too.

    A search's entry holds its query text and every customer it listed, so a customer
    gets only its leaf hash, never the entry's bytes.
    """
    return access.action is Action.CUSTOMER_SEARCH


def parse_window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` (RFC 3339, both ends inclusive) as UTC datetimes."""
    start, end = _time("since", since), _time("until", until)
    if start is not None and end is not None and start > end:
        raise WindowError(f"since ({since}) is after until ({until})")
    return start, end


def _time(name: str, text: str | None) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise WindowError(f"{name}: {exc}") from exc
