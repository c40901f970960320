"""Errors of access transparency.

Errors of bad input also derive from :class:`~vigile.errors.InputError`, so the CLI and
the HTTP API map them by kind::

    VigileError
    └── TransparencyError
        ├── UnknownCustomer     no customer with that id in the directory
        ├── AccessNotFound      no access with that id concerns the customer
        ├── InvalidToken        a customer token is missing, unknown or revoked
        ├── WindowError         since/until unreadable or reversed (also an InputError)
        └── SizeOutOfRange      a tree size no checkpoint covers (also an InputError)
"""

from __future__ import annotations

from vigile.errors import InputError, VigileError

__all__ = [
    "AccessNotFound",
    "InvalidToken",
    "SizeOutOfRange",
    "TransparencyError",
    "UnknownCustomer",
    "WindowError",
]


class TransparencyError(VigileError):
    """Root of the errors access transparency raises on purpose."""


class UnknownCustomer(TransparencyError):
    """No customer with this id in the directory."""

    def __init__(self, customer_id: str) -> None:
        self.customer_id = customer_id
        super().__init__(f"no customer {customer_id!r} in the store")


class AccessNotFound(TransparencyError):
    """No access with this id concerns the customer.

    The same error whether the event does not exist or concerns someone else, so a
    customer cannot probe for other customers' events.
    """

    def __init__(self, event_id: str) -> None:
        self.event_id = event_id
        super().__init__(f"no access {event_id!r} concerns this customer")


class InvalidToken(TransparencyError):
    """A customer token is missing, unknown or revoked (one message for all three)."""


class WindowError(TransparencyError, InputError):
    """``since`` or ``until`` is not an RFC 3339 time, or ``since`` is after ``until``."""


class SizeOutOfRange(TransparencyError, InputError):
    """A tree size outside ``1 .. size of the latest checkpoint``."""
