"""The support organisation and its activity, in the activity log's vocabulary."""

from vigile.model.records import (
    Access,
    Account,
    Agent,
    Contact,
    Customer,
    Record,
    Shift,
    SignIn,
    Subscription,
    Ticket,
    TicketEvent,
)
from vigile.model.vocabulary import (
    ACTIONS,
    DATA_FIELDS,
    MFA_METHODS,
    REASONS,
    WEEKDAYS,
    Action,
    Reason,
    TicketStep,
)

__all__ = [
    "ACTIONS",
    "DATA_FIELDS",
    "MFA_METHODS",
    "REASONS",
    "WEEKDAYS",
    "Access",
    "Account",
    "Action",
    "Agent",
    "Contact",
    "Customer",
    "Reason",
    "Record",
    "Shift",
    "SignIn",
    "Subscription",
    "Ticket",
    "TicketEvent",
    "TicketStep",
]
