"""The permission matrix extended to AI agents: principal (person or AI agent) x customer
tier x ticket x supervisor's approval x what is asked -> decision.

AI agents are stricter than people: no payment field in clear, no break-glass, and a
government or enterprise customer's contacts in clear only with the supervising human's
approval of the exact call. ``MATRIX`` is the readable table; the full cross product is
then checked against ``_reference``, the rules stated plainly.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from vigile.model import Agent, Contact, Customer, Subscription, Ticket
from vigile.policy import ApprovalFacts, PolicyEngine, RequestFacts, entity_of, justification

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
AGENT, CUSTOMER = "x-1", "c-1"
PRINCIPALS = ("person", "ai")
TIERS = ("smb", "enterprise", "government")
TICKETS = ("assigned", "none")
APPROVALS = ("none", "approved", "expired", "other-agent", "other-customer")
# what is asked: (action, resource kind, resource id, fields in clear, reason)
SUPPORT, AMOUNT = "customer_initiated_support", "subscription.monthly_amount"
ASKS = {
    "masked-contacts": ("contact.view", "Customer", CUSTOMER, (), SUPPORT),
    "reveal-email": ("contact.reveal", "Contact", "k-1", ("contact.email",), SUPPORT),
    "reveal-phone": ("contact.reveal", "Contact", "k-1", ("contact.phone",), SUPPORT),
    "reveal-amount": ("billing.view", "Subscription", "s-1", (AMOUNT,), SUPPORT),
    "break-glass-email": ("contact.reveal", "Contact", "k-1", ("contact.email",), "break_glass"),
}  # fmt: skip
ALLOW, DENY = True, False

# principal, customer tier, ticket, approval, ask -> allowed
MATRIX: list[tuple[str, str, str, str, str, bool]] = [
    # a person with an assigned ticket: everything but export, as before
    ("person", "government", "assigned", "none", "reveal-email", ALLOW),
    ("person", "smb", "assigned", "none", "reveal-amount", ALLOW),
    ("person", "smb", "none", "none", "break-glass-email", ALLOW),
    # an AI agent with an assigned ticket: masked views and smb contacts as a person
    ("ai", "smb", "assigned", "none", "masked-contacts", ALLOW),
    ("ai", "smb", "assigned", "none", "reveal-email", ALLOW),
    ("ai", "government", "assigned", "none", "masked-contacts", ALLOW),
    # ... never a payment field, whatever the approval
    ("ai", "smb", "assigned", "none", "reveal-amount", DENY),
    ("ai", "government", "assigned", "approved", "reveal-amount", DENY),
    # ... never break-glass
    ("ai", "smb", "none", "none", "break-glass-email", DENY),
    ("ai", "smb", "assigned", "approved", "break-glass-email", DENY),
    # ... government and enterprise contacts only with the supervisor's approval
    ("ai", "government", "assigned", "none", "reveal-email", DENY),
    ("ai", "enterprise", "assigned", "none", "reveal-phone", DENY),
    ("ai", "government", "assigned", "approved", "reveal-email", ALLOW),
    ("ai", "enterprise", "assigned", "approved", "reveal-phone", ALLOW),
    # ... an approval that is not this agent's, this customer's, or still valid: none
    ("ai", "government", "assigned", "expired", "reveal-email", DENY),
    ("ai", "government", "assigned", "other-agent", "reveal-email", DENY),
    ("ai", "government", "assigned", "other-customer", "reveal-email", DENY),
    # ... and an approval never replaces the ticket
    ("ai", "government", "none", "approved", "reveal-email", DENY),
]


def _reference(principal: str, tier: str, ticket: str, approval: str, ask: str) -> bool:
    """The rules, stated plainly."""
    _, _, _, clear, reason = ASKS[ask]
    justified = ticket == "assigned" or reason == "break_glass"
    if principal == "person":
        return justified
    if reason == "break_glass" or AMOUNT in clear:
        return False
    contacts = any(field.startswith("contact.") for field in clear)
    if contacts and tier in ("government", "enterprise") and approval != "approved":
        return False
    return ticket == "assigned"


def _approval(state: str) -> ApprovalFacts | None:
    if state == "none":
        return None
    return ApprovalFacts(
        id="approval-1",
        agent="x-2" if state == "other-agent" else AGENT,
        customer="c-2" if state == "other-customer" else CUSTOMER,
        status="approved",
        expires=NOW + (timedelta(minutes=-1) if state == "expired" else timedelta(minutes=10)),
    )


def _decide(
    engine: PolicyEngine, principal: str, tier: str, ticket: str, approval: str, ask: str
) -> bool:
    extra = {"ai": {"model": "m-1", "supervisor": "sup-1"}} if principal == "ai" else {}
    handle = engine.entities.ensure(
        [
            entity_of(Agent(id=AGENT, tier=2, team="t", extra=extra)),
            entity_of(Customer(id=CUSTOMER, tier=tier)),
            entity_of(Contact(id="k-1", customer=CUSTOMER)),
            entity_of(Subscription(id="s-1", customer=CUSTOMER, service="storage")),
        ]
    )
    action, kind, key, clear, reason = ASKS[ask]
    assigned = Ticket(id="T-1", customer=CUSTOMER, category=None, opened_at=NOW, assignee=AGENT)
    facts = RequestFacts(
        now=NOW,
        customer=CUSTOMER,
        reason=reason,
        clear=frozenset(clear),
        ticket=assigned if ticket == "assigned" else None,
        approval=_approval(approval),
    )
    decision = engine.decide(
        principal=("Agent", AGENT),
        action=action,
        resource=(kind, key),
        context=justification(facts),
        entities=handle,
    )
    assert decision.reason  # every decision explains itself
    return decision.allowed


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load()


@pytest.mark.parametrize(("principal", "tier", "ticket", "approval", "ask", "allowed"), MATRIX)
def test_the_readable_matrix(
    engine: PolicyEngine,
    principal: str,
    tier: str,
    ticket: str,
    approval: str,
    ask: str,
    allowed: bool,
) -> None:
    assert _reference(principal, tier, ticket, approval, ask) is allowed
    assert _decide(engine, principal, tier, ticket, approval, ask) is allowed


def test_the_full_cross_product_follows_the_reference(engine: PolicyEngine) -> None:
    wrong = [
        case
        for case in itertools.product(PRINCIPALS, TIERS, TICKETS, APPROVALS, ASKS)
        if _decide(engine, *case) is not _reference(*case)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("ask", "tier", "policy"),
    [
        ("reveal-amount", "smb", "ai-agent-no-payment-fields"),
        ("break-glass-email", "smb", "ai-agent-no-break-glass"),
        ("reveal-email", "government", "ai-agent-sensitive-contacts-need-supervisor-approval"),
    ],
)
def test_an_ai_agents_denial_names_its_policy_and_says_why(
    engine: PolicyEngine, ask: str, tier: str, policy: str
) -> None:
    engine.entities.ensure([entity_of(Customer(id=CUSTOMER, tier=tier))])
    handle = engine.entities.ensure(
        [entity_of(Agent(id=AGENT, tier=2, team="t", extra={"ai": {"supervisor": "sup-1"}}))]
    )
    action, kind, key, clear, reason = ASKS[ask]
    assigned = Ticket(id="T-1", customer=CUSTOMER, category=None, opened_at=NOW, assignee=AGENT)
    facts = RequestFacts(
        now=NOW, customer=CUSTOMER, reason=reason, clear=frozenset(clear), ticket=assigned
    )
    decision = engine.decide(
        principal=("Agent", AGENT),
        action=action,
        resource=(kind, key),
        context=justification(facts),
        entities=handle,
    )
    assert not decision.allowed
    assert policy in decision.policies
    assert "AI agent" in decision.reason
