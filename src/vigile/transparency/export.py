"""A customer's access listing as JSON, CSV (RFC 4180, no cell a formula) and OCSF API
Activity events.

Pure functions: a listing in, data or text out. The OCSF mapping is the one of
docs/spec/activity-log.md ("Mapping to OCSF"); docs/transparency.md has its table.
"""

from __future__ import annotations

from typing import Any

from vigile.activitylog import ocsf
from vigile.activitylog.ocsf import OCSF_VERSION
from vigile.ledger.encoding import encode_b64
from vigile.model import Access
from vigile.model.times import format_rfc3339
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
            "kind": entry.agent_kind,
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
    """One access as OCSF API Activity (class 6003), by the spec's one mapping
    (:mod:`vigile.activitylog.ocsf`), with this customer's fields only."""
    access = Access(
        id=entry.event_id,
        time=entry.time,
        agent=entry.agent,
        session=entry.session,
        action=entry.action,
        outcome=entry.outcome,
        ip=entry.ip,
        fields=entry.fields,
        masked_fields=entry.masked_fields,
        object=entry.object,
        ticket=entry.ticket,
        reason=entry.reason,
        deny_reason=entry.deny_reason,
    )
    found = ocsf.resources(access, customer_id, entry.fields, entry.masked_fields)
    return ocsf.api_activity(
        access, resources=found, unmapped=_unmapped(entry, access), employer=entry.agent_employer
    )


def _unmapped(entry: AccessEntry, access: Access) -> dict[str, Any]:
    """What OCSF has no field for: the justification, the agent's country, and the
    access's place in the ledger (to find its proof)."""
    ledger: dict[str, Any] = {"leaf_index": entry.proof.leaf_index}
    if entry.proof.bundle is not None:
        ledger["leaf_hash"] = encode_b64(entry.proof.bundle.leaf_hash)
    justification = ocsf.justification(access)
    if entry.incident is not None:
        justification["incident"] = entry.incident
    unmapped = {
        "justification": justification,
        "agent_country": entry.agent_country,
        "ledger": ledger,
    }
    return {key: value for key, value in unmapped.items() if value is not None}
