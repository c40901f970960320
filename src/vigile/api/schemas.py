"""The HTTP API's request and response shapes (pydantic, at the boundary only).

The domain builds plain data (:mod:`vigile.transparency.export`); these models check it
on the way out and document it in ``/openapi.json``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "AccessOut",
    "AccessProofOut",
    "AgentOut",
    "ConsistencyBundleOut",
    "ConsistencyOut",
    "ErrorDetail",
    "ErrorOut",
    "HealthOut",
    "InclusionBundleOut",
    "JustificationOut",
    "ListingOut",
    "ProofOut",
]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. `unauthorized`.")
    message: str = Field(description="One human sentence; never a stack trace.")
    request_id: str = Field(description="Also in the `X-Request-ID` response header.")


class ErrorOut(BaseModel):
    """The one shape of every error response, whatever the status."""

    error: ErrorDetail


class LedgerHealthOut(BaseModel):
    stored: int = Field(description="Leaves stored with their events.")
    integrated: int = Field(description="Entries in the tree.")
    pending: int = Field(description="Leaves waiting for the integrator.")
    oldest_pending_seconds: float | None = Field(
        description="How long the oldest waiting leaf has waited."
    )
    max_delay_seconds: float = Field(description="VIGILE_INTEGRATION_DELAY.")
    lagging: bool = Field(description="The oldest waiting leaf waited longer than that.")
    checkpoint_size: int | None
    checkpoint_time: str | None


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    ledger: LedgerHealthOut | None = None


class AgentOut(BaseModel):
    id: str = Field(description="The agent's pseudonymous id in the log; never a name.")
    employer: str | None
    country: str | None = Field(description="ISO 3166 alpha-2.")


class JustificationOut(BaseModel):
    reason: str | None
    ticket: str | None
    incident: str | None = Field(
        description="The incident an analyst read the data for (breach response)."
    )


class InclusionBundleOut(BaseModel):
    """Input of `vigile.ledger.verify_proofs.verify_inclusion_bundle`; hashes in base64."""

    leaf: str | None = Field(description="The entry's bytes; null when it names others.")
    leaf_index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]
    root: str


class ProofOut(BaseModel):
    status: Literal["included", "pending"]
    leaf_index: int
    leaf_disclosed: bool
    bundle: InclusionBundleOut | None


class AccessOut(BaseModel):
    time: str = Field(description="RFC 3339, UTC.")
    event_id: str
    agent: AgentOut
    session: str
    ip: str | None
    action: str
    fields: list[str] = Field(description="This customer's data fields shown in clear.")
    masked_fields: list[str] = Field(description="This customer's data fields shown masked.")
    object: str | None
    justification: JustificationOut
    outcome: Literal["allowed", "denied"]
    deny_reason: str | None
    proof: ProofOut


class ListingOut(BaseModel):
    customer: str
    since: str | None
    until: str | None
    checkpoint: str = Field(description="The signed checkpoint note every proof is against.")
    tree_size: int
    count: int
    accesses: list[AccessOut]


class AccessProofOut(BaseModel):
    checkpoint: str
    access: AccessOut


class ConsistencyBundleOut(BaseModel):
    """Input of `vigile.ledger.verify_proofs.verify_consistency_bundle`; hashes in base64."""

    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]


class ConsistencyOut(BaseModel):
    checkpoint: str
    bundle: ConsistencyBundleOut
