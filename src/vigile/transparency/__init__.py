"""Access transparency: a customer sees every access to its data, with inclusion proofs.

- :mod:`~vigile.transparency.concern` what a customer may see of an access (pure);
- :mod:`~vigile.transparency.proofs` many inclusion proofs against one checkpoint;
- :mod:`~vigile.transparency.service` :class:`Transparency` over a store;
- :mod:`~vigile.transparency.export` JSON, CSV and OCSF API Activity (pure);
- :mod:`~vigile.transparency.tokens` customers' bearer tokens (only hashes stored).
"""

from vigile.transparency.concern import entry_of, parse_window
from vigile.transparency.errors import (
    AccessNotFound,
    InvalidToken,
    SizeOutOfRange,
    TransparencyError,
    UnknownCustomer,
    WindowError,
)
from vigile.transparency.export import (
    CSV_HEADER,
    OCSF_VERSION,
    entry_json,
    listing_csv,
    listing_json,
    listing_ocsf,
    ocsf_event,
    proof_json,
)
from vigile.transparency.model import AccessEntry, AccessListing, AccessProof, ProofStatus
from vigile.transparency.service import ProvenAccess, Transparency
from vigile.transparency.summary import AccessSummary, access_summary
from vigile.transparency.tokens import IssuedToken, authenticate, issue_token, revoke_tokens

__all__ = [
    "CSV_HEADER",
    "OCSF_VERSION",
    "AccessEntry",
    "AccessListing",
    "AccessNotFound",
    "AccessProof",
    "AccessSummary",
    "InvalidToken",
    "IssuedToken",
    "ProofStatus",
    "ProvenAccess",
    "SizeOutOfRange",
    "Transparency",
    "TransparencyError",
    "UnknownCustomer",
    "WindowError",
    "access_summary",
    "authenticate",
    "entry_json",
    "entry_of",
    "issue_token",
    "listing_csv",
    "listing_json",
    "listing_ocsf",
    "ocsf_event",
    "parse_window",
    "proof_json",
    "revoke_tokens",
]
