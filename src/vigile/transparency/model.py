"""What a customer sees of the accesses to its data: frozen, keyword-only records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vigile.ledger.verify_proofs import InclusionBundle
from vigile.model import Action, Reason

__all__ = ["AccessEntry", "AccessListing", "AccessProof", "ProofStatus"]


class ProofStatus(StrEnum):
    """Whether an access's ledger entry is covered by the listing's checkpoint."""

    #: In the checkpoint; the bundle proves it.
    INCLUDED = "included"
    #: Recorded after the checkpoint was signed; the next listing proves it.
    PENDING = "pending"


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessProof:
    """The inclusion proof of one access against the listing's checkpoint.

    ``bundle`` is ``None`` while pending. Its ``leaf`` (the entry's bytes) is left out
    when the entry names other customers (a search's results): the customer then gets
    the leaf hash only.
    """

    status: ProofStatus
    leaf_index: int
    bundle: InclusionBundle | None = None

    @property
    def leaf_disclosed(self) -> bool:
        return self.bundle is not None and self.bundle.leaf is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessEntry:
    """One access to a customer's data, as that customer may see it.

    ``agent`` is the pseudonymous id of the log, never a name; ``agent_employer`` and
    ``agent_country`` come from the agents directory. ``fields`` and ``masked_fields``
    are those of this customer's data only (for a search: its name). The justification
    is ``reason`` and ``ticket``, or, for an analyst's read during breach response,
    ``incident``. An AI agent's access says so (``agent_kind``: "AI agent of team X").
    """

    time: datetime
    event_id: str
    agent: str
    agent_employer: str | None
    agent_country: str | None
    session: str
    ip: str | None
    action: Action
    fields: tuple[str, ...]
    masked_fields: tuple[str, ...]
    object: str | None
    reason: Reason | None
    ticket: str | None
    outcome: str
    deny_reason: str | None
    proof: AccessProof
    incident: str | None = None
    #: Who the accessor is when not a person: "AI agent of team X" (from the directory).
    agent_kind: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessListing:
    """Every access to one customer's data in a window, all proven against one checkpoint."""

    customer: str
    since: datetime | None
    until: datetime | None
    checkpoint: str
    tree_size: int
    entries: tuple[AccessEntry, ...]
