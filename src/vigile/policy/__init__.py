"""Access policies: the Cedar schema and default policies, decisions, and masking.

A pure core: :class:`PolicyEngine` decides on a principal, an action, a resource and a
context it is given; it never reads the store. The broker (:mod:`vigile.broker`) gathers
the facts (ticket as of now, grant, suspension, velocity) and records the outcome.
"""

from vigile.policy.context import (
    ApprovalFacts,
    GrantFacts,
    RequestFacts,
    justification,
    search_context,
)
from vigile.policy.engine import DEFAULT_POLICY_FILE, Decision, PolicyEngine, load_schema
from vigile.policy.entities import DIRECTORY, EntityCache, entity_of, ref, uid
from vigile.policy.errors import InvalidPolicy, PolicyError
from vigile.policy.masking import (
    FIELD_CLASSES,
    MASK,
    SENSITIVE_FIELDS,
    fields_of_classes,
    mask_email,
    mask_phone,
    mask_value,
)

__all__ = [
    "DEFAULT_POLICY_FILE",
    "DIRECTORY",
    "FIELD_CLASSES",
    "MASK",
    "SENSITIVE_FIELDS",
    "ApprovalFacts",
    "Decision",
    "EntityCache",
    "GrantFacts",
    "InvalidPolicy",
    "PolicyEngine",
    "PolicyError",
    "RequestFacts",
    "entity_of",
    "fields_of_classes",
    "justification",
    "load_schema",
    "mask_email",
    "mask_phone",
    "mask_value",
    "ref",
    "search_context",
    "uid",
]
