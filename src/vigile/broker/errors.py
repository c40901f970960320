"""Errors of the access broker, each also in the family that says how it is answered
(:mod:`vigile.errors`, in brackets)::

    VigileError
    ├── InputError
    │   └── InvalidBrokerRequest  a request the broker cannot take (bad duration, field...)
    └── BrokerError               (no family: raised only through a subclass)
        ├── Unauthenticated       [Unauthenticated] no valid credential (token, session, MFA)
        ├── Forbidden             [Forbidden] the caller lacks the role for this operation
        │   └── AccessDenied      a policy denied the request (reason, policies)
        ├── NotFound              [NotFound] no such customer, object or grant (for this caller)
        └── GrantConflict         [Conflict] the grant is not in a state that allows this

None of them ever carries a data value: only ids, policy names and reasons.
"""

from __future__ import annotations

from vigile import errors
from vigile.errors import InputError, VigileError

__all__ = [
    "AccessDenied",
    "BrokerError",
    "Forbidden",
    "GrantConflict",
    "InvalidBrokerRequest",
    "NotFound",
    "Unauthenticated",
]


class BrokerError(VigileError):
    """The broker refused or could not serve a request (never raised itself: each subclass
    is also in the family that says how it is answered)."""


class InvalidBrokerRequest(InputError):
    """A request the broker cannot take as given."""


class Unauthenticated(BrokerError, errors.Unauthenticated):
    """No valid credential: a missing, expired or revoked token, or no second factor."""


class Forbidden(BrokerError, errors.Forbidden):
    """The caller may not do this (a role it lacks)."""


class AccessDenied(Forbidden):
    """A policy denied the request; ``policies`` name the deciding policies."""

    def __init__(self, reason: str, policies: tuple[str, ...] = ()) -> None:
        self.reason = reason
        self.policies = policies
        named = f" (policy {', '.join(policies)})" if policies else ""
        super().__init__(f"denied: {reason}{named}")


class NotFound(BrokerError, errors.NotFound):
    """No such customer, object or grant, as far as the caller may know."""


class GrantConflict(BrokerError, errors.Conflict):
    """The grant's state does not allow the operation (approving a revoked grant...)."""
