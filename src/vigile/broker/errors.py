"""Errors of the access broker::

    VigileError
    ├── InputError
    │   └── InvalidBrokerRequest  a request the broker cannot take (bad duration, field...)
    └── BrokerError
        ├── Unauthenticated       no valid credential (token, session, MFA)
        ├── Forbidden             the caller lacks the role for this operation
        │   └── AccessDenied      a policy denied the request (reason, policies)
        ├── NotFound              no such customer, object or grant (for this caller)
        └── GrantConflict         the grant is not in a state that allows this

None of them ever carries a data value: only ids, policy names and reasons.
"""

from __future__ import annotations

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
    """The broker refused or could not serve a request."""


class InvalidBrokerRequest(InputError):
    """A request the broker cannot take as given."""


class Unauthenticated(BrokerError):
    """No valid credential: a missing, expired or revoked token, or no second factor."""


class Forbidden(BrokerError):
    """The caller may not do this (a role it lacks)."""


class AccessDenied(Forbidden):
    """A policy denied the request; ``policies`` name the deciding policies."""

    def __init__(self, reason: str, policies: tuple[str, ...] = ()) -> None:
        self.reason = reason
        self.policies = policies
        named = f" (policy {', '.join(policies)})" if policies else ""
        super().__init__(f"denied: {reason}{named}")


class NotFound(BrokerError):
    """No such customer, object or grant, as far as the caller may know."""


class GrantConflict(BrokerError):
    """The grant's state does not allow the operation (approving a revoked grant...)."""
