"""Errors of access transparency.

Each error is also in the family of :mod:`vigile.errors` that says how the HTTP API
answers it (in brackets)::

    VigileError
    └── TransparencyError       (no family: raised only through a subclass)
        ├── UnknownCustomer     [NotFound] no customer with that id in the directory
        ├── AccessNotFound      [NotFound] no access with that id concerns the customer
        ├── InvalidToken        [Unauthenticated] a customer token is missing, unknown or revoked
        ├── WindowError         [InputError] since/until unreadable or reversed
        └── SizeOutOfRange      [InputError] a tree size no checkpoint covers
"""

from __future__ import annotations

from vigile.errors import InputError, NotFound, Unauthenticated, VigileError

__all__ = [
    "AccessNotFound",
    "InvalidToken",
    "SizeOutOfRange",
    "TransparencyError",
    "UnknownCustomer",
    "WindowError",
]


class TransparencyError(VigileError):
    """Root of the errors access transparency raises on purpose (never raised itself:
    each subclass is also in the family that says how it is answered)."""


class UnknownCustomer(TransparencyError, NotFound):
    """No customer with this id in the directory."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        super().__init__(f"no customer {customer_id!r} in the store")


class AccessNotFound(TransparencyError, NotFound):
    """No access with this id concerns the customer.

    The same error whether the event does not exist or concerns someone else, so a
    customer cannot probe for other customers' events.
    """

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(f"no access {event_id!r} concerns this customer")


class InvalidToken(TransparencyError, Unauthenticated):
    """A customer token is missing, unknown or revoked (one message for all three)."""


class WindowError(TransparencyError, InputError):
    """``since`` or ``until`` is not an RFC 3339 time, or ``since`` is after ``until``."""


class SizeOutOfRange(TransparencyError, InputError):
    """A tree size outside ``1 .. size of the latest checkpoint``."""
