"""The access broker: justification-bound access to customer data, masked by default,
with just-in-time grants, customer lockbox, velocity limits and containment.

Every request, allowed or denied, is an ``access`` event in the store and the ledger
before the answer leaves; every decision about grants and agents is an audit event.
"""

from vigile.broker.containment import DETECTION, Containment, Sessions
from vigile.broker.errors import (
    AccessDenied,
    BrokerError,
    Forbidden,
    GrantConflict,
    InvalidBrokerRequest,
    NotFound,
    Unauthenticated,
)
from vigile.broker.events import BROKER_ACTOR
from vigile.broker.grants import GRANT_REASONS, Grant, GrantBook, GrantStatus
from vigile.broker.identity import LOCAL_ISSUER, ROLES, Authenticator, LocalTokens, Principal
from vigile.broker.notify import CHANNELS, Notice, Notifier, register_channel
from vigile.broker.service import Broker
from vigile.broker.velocity import Limits, Velocity

__all__ = [
    "BROKER_ACTOR",
    "CHANNELS",
    "DETECTION",
    "GRANT_REASONS",
    "LOCAL_ISSUER",
    "ROLES",
    "AccessDenied",
    "Authenticator",
    "Broker",
    "BrokerError",
    "Containment",
    "Forbidden",
    "Grant",
    "GrantBook",
    "GrantConflict",
    "GrantStatus",
    "InvalidBrokerRequest",
    "Limits",
    "LocalTokens",
    "NotFound",
    "Notice",
    "Notifier",
    "Principal",
    "Sessions",
    "Unauthenticated",
    "Velocity",
    "register_channel",
]
