"""A customer's access listing as JSON, CSV (RFC 4180, no cell a formula) and OCSF API
Activity events.

Pure functions: a listing in, data or text out. The OCSF mapping is the one of
docs/spec/activity-log.md ("Mapping to OCSF"); docs/transparency.md has its table.
"""

from __future__ import annotations

from typing import Any

from vigile.ledger.encoding import encode_b64
from vigile.model import Action
from vigile.model.times import format_rfc3339, to_micros
from vigile.render.spreadsheet import Cell, csv_text
from vigile.transparency.model import AccessEntry, AccessListing, AccessProof

__all__ = [
    "CSV_HEADER",
    "OCSF_VERSION",
    "entry_json",
    "listing_csv",
    "listing_json",
    "listing_ocsf",
    "ocsf_event",
    "proof_json",
]

#: The OCSF schema version the events follow (API Activity is class 6003 since 1.1).
OCSF_VERSION = "1.3.0"

#: Columns of the CSV export, in order. Append only: consumers read them by position.
CSV_HEADER = (
    "time",
    "event_id",
    "agent",
    "agent_employer",
    "agent_country",
    "session",
    "ip",
    "action",
    "fields",
    "masked_fields",
    "object",
    "reason",
    "ticket",
    "outcome",
    "deny_reason",
    "proof_status",
    "leaf_index",
    "tree_size",
    "leaf_hash",
    "incident",
)

_API_ACTIVITY = 6003
_APPLICATION_ACTIVITY = 6
_CREATE, _READ = 1, 2
_STATUS = {"allowed": (1, "Success"), "denied": (2, "Failure")}
_OBJECT_KINDS = ("contact", "account", "subscription")


# -- JSON ------------------------------------------------------------------------------


def listing_json(listing: AccessListing) -> dict[str, Any]:
    """The listing as one JSON object: the checkpoint once, then every access."""
    return {
        "customer": listing.customer,
        "since": _time(listing.since),
        "until": _time(listing.until),
        "checkpoint": listing.checkpoint,
        "tree_size": listing.tree_size,
        "count": len(listing.entries),
        "accesses": [entry_json(entry) for entry in listing.entries],
    }


def entry_json(entry: AccessEntry) -> dict[str, Any]:
    """One access as a JSON object."""
    return {
        "time": format_rfc3339(entry.time),
        "event_id": entry.event_id,
        "agent": {
            "id": entry.agent,
            "employer": entry.agent_employer,
            "country": entry.agent_country,
        },
        "session": entry.session,
        "ip": entry.ip,
        "action": entry.action.value,
        "fields": list(entry.fields),
        "masked_fields": list(entry.masked_fields),
        "object": entry.object,
        "justification": {
            "reason": None if entry.reason is None else entry.reason.value,
            "ticket": entry.ticket,
            "incident": entry.incident,
        },
        "outcome": entry.outcome,
        "deny_reason": entry.deny_reason,
        "proof": proof_json(entry.proof),
    }


def proof_json(proof: AccessProof) -> dict[str, Any]:
    """A proof's status and bundle; the bundle is what ``verify_inclusion_bundle`` reads."""
    return {
        "status": proof.status.value,
        "leaf_index": proof.leaf_index,
        "leaf_disclosed": proof.leaf_disclosed,
        "bundle": None if proof.bundle is None else _bundle_json(proof),
    }


def _bundle_json(proof: AccessProof) -> dict[str, Any]:
    assert proof.bundle is not None
    # Always the same keys: a withheld leaf is null (the verifier reads null as absent).
    return {"leaf": None, **proof.bundle.to_json()}


def _time(moment: Any) -> str | None:
    return None if moment is None else format_rfc3339(moment)


# -- CSV -------------------------------------------------------------------------------


def listing_csv(listing: AccessListing) -> str:
    """The listing as RFC 4180 CSV (CRLF line ends), header first; lists of fields are
    space-separated (data field names hold no spaces). No cell is a formula: text that a
    spreadsheet would evaluate gets a ``'`` in front (:mod:`vigile.render.spreadsheet`)."""
    return csv_text(CSV_HEADER, (_csv_row(entry, listing.tree_size) for entry in listing.entries))


def _csv_row(entry: AccessEntry, tree_size: int) -> tuple[Cell, ...]:
    bundle = entry.proof.bundle
    return (
        format_rfc3339(entry.time),
        entry.event_id,
        entry.agent,
        entry.agent_employer or "",
        entry.agent_country or "",
        entry.session,
        entry.ip or "",
        entry.action.value,
        " ".join(entry.fields),
        " ".join(entry.masked_fields),
        entry.object or "",
        "" if entry.reason is None else entry.reason.value,
        entry.ticket or "",
        entry.outcome,
        entry.deny_reason or "",
        entry.proof.status.value,
        entry.proof.leaf_index,
        tree_size,
        "" if bundle is None else encode_b64(bundle.leaf_hash),
        entry.incident or "",
    )


# -- OCSF ------------------------------------------------------------------------------


def listing_ocsf(listing: AccessListing) -> list[dict[str, Any]]:
    """Every access of the listing as an OCSF API Activity event."""
    return [ocsf_event(entry, listing.customer) for entry in listing.entries]


def ocsf_event(entry: AccessEntry, customer_id: str) -> dict[str, Any]:
    """One access as OCSF API Activity (class 6003); absent values are left out."""
    activity_id = _CREATE if entry.action is Action.GRANT_REQUEST else _READ
    activity_name = "Create" if activity_id == _CREATE else "Read"
    status_id, status = _STATUS.get(entry.outcome, (0, "Unknown"))
    event: dict[str, Any] = {
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": _APPLICATION_ACTIVITY,
        "category_name": "Application Activity",
        "class_uid": _API_ACTIVITY,
        "class_name": "API Activity",
        "type_uid": _API_ACTIVITY * 100 + activity_id,
        "type_name": f"API Activity: {activity_name}",
        "time": to_micros(entry.time) // 1000,
        "severity_id": 1,
        "severity": "Informational",
        "status_id": status_id,
        "status": status,
        "actor": _actor(entry),
        "src_endpoint": _without_none({"ip": entry.ip}),
        "api": {"operation": entry.action.value},
        "resources": _resources(entry, customer_id),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": entry.event_id,
            "product": {"name": "Vigile", "vendor_name": "Vigile"},
        },
        "unmapped": _unmapped(entry),
    }
    if entry.deny_reason is not None:
        event["status_detail"] = entry.deny_reason
    return event


def _actor(entry: AccessEntry) -> dict[str, Any]:
    user: dict[str, Any] = {"uid": entry.agent}
    if entry.agent_employer is not None:
        user["org"] = {"name": entry.agent_employer}
    return {"user": user, "session": {"uid": entry.session}}


def _resources(entry: AccessEntry, customer_id: str) -> list[dict[str, Any]]:
    """The customer, then the object; each object field goes to the object, the
    ``customer.*`` fields (all fields when there is no object) to the customer."""
    if entry.object is None:
        return [_resource(customer_id, "customer", entry.fields, entry.masked_fields)]

    def own(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if name.startswith("customer."))

    def others(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if not name.startswith("customer."))

    return [
        _resource(customer_id, "customer", own(entry.fields), own(entry.masked_fields)),
        _resource(
            entry.object, _object_kind(entry), others(entry.fields), others(entry.masked_fields)
        ),
    ]


def _resource(
    uid: str, kind: str, fields: tuple[str, ...], masked: tuple[str, ...]
) -> dict[str, Any]:
    data = {"fields": list(fields), "masked_fields": list(masked)}
    return {"uid": uid, "type": kind, "data": data}


def _object_kind(entry: AccessEntry) -> str:
    """contact, account or subscription: from the action, else from the fields."""
    for name in (entry.action.value, *entry.fields, *entry.masked_fields):
        kind = name.split(".", 1)[0]
        if kind in _OBJECT_KINDS:
            return kind
    return "object"


def _unmapped(entry: AccessEntry) -> dict[str, Any]:
    """What OCSF has no field for: the justification, the agent's country, and the
    access's place in the ledger (to find its proof)."""
    ledger: dict[str, Any] = {"leaf_index": entry.proof.leaf_index}
    if entry.proof.bundle is not None:
        ledger["leaf_hash"] = encode_b64(entry.proof.bundle.leaf_hash)
    reason = None if entry.reason is None else entry.reason.value
    unmapped = {
        "justification": _without_none(
            {"reason": reason, "ticket": entry.ticket, "incident": entry.incident}
        ),
        "agent_country": entry.agent_country,
        "ledger": ledger,
    }
    return _without_none(unmapped)


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
