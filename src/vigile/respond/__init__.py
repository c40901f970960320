"""Breach response: incidents, blast radius, notifications, remediation, regulatory clock.

An incident is a scope (agents, sessions, addresses, devices) and a time window. Its blast
radius is computed from the stored events; every action taken on it is an audit event in
the ledger.
"""

from vigile.respond.blast import (
    CATEGORIES,
    BlastRadius,
    BlastSummary,
    CustomerExposure,
    blast_radius,
    category_of,
)
from vigile.respond.errors import (
    DeliveryError,
    IncidentClosed,
    IncidentNotFound,
    InvalidScope,
    NotificationNotReady,
    UnknownAccount,
)
from vigile.respond.scope import Scope, parse_time

__all__ = [
    "CATEGORIES",
    "BlastRadius",
    "BlastSummary",
    "CustomerExposure",
    "DeliveryError",
    "IncidentClosed",
    "IncidentNotFound",
    "InvalidScope",
    "NotificationNotReady",
    "Scope",
    "UnknownAccount",
    "blast_radius",
    "category_of",
    "parse_time",
]
