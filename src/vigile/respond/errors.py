"""Errors of breach response, under :class:`vigile.errors.VigileError`::

InputError
├── InvalidScope            an incident scope or window that cannot be used
└── UnknownAccount          a rename names an account the store does not hold
NotFound
└── IncidentNotFound        no incident with that id
Conflict
├── IncidentClosed          a closed incident cannot be changed
└── NotificationNotReady    sending before approval, or approving before a preview
InternalError
└── OutputError
    └── DeliveryError       a notification cannot be written or sent
"""

from __future__ import annotations

from vigile.errors import Conflict, InputError, NotFound, OutputError

__all__ = [
    "DeliveryError",
    "IncidentClosed",
    "IncidentNotFound",
    "InvalidScope",
    "NotificationNotReady",
    "UnknownAccount",
]


class InvalidScope(InputError):
    """An incident's scope or time window is empty, reversed or unparsable."""


class IncidentNotFound(NotFound):
    """No incident has this id."""

    def __init__(self, incident: str) -> None:
        self.incident = incident
        super().__init__(f"no incident {incident!r} (see `vigile incident list`)")


class IncidentClosed(Conflict):
    """The incident is closed: its record is final."""

    def __init__(self, incident: str) -> None:
        self.incident = incident
        super().__init__(f"incident {incident} is closed; its record is final")


class NotificationNotReady(Conflict):
    """A notification step was asked out of order (send before approve, approve before
    preview, or approve a message that changed since its preview)."""


class UnknownAccount(InputError):
    """A rename names an account the store does not hold."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"no account {account!r} in the store")


class DeliveryError(OutputError):
    """A notification cannot be written to the outbox or sent over SMTP."""
