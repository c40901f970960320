"""The support tools an AI agent calls over MCP: each one a request of the broker's.

A tool is data: its name, the sentence the model reads, the shape of its arguments (a
pydantic model, whose JSON Schema the client is shown) and one function calling
:class:`vigile.broker.Broker`. Nothing here decides, masks or records: the broker does,
exactly as for a person over the HTTP API, so a tool call leaves the same access event
and ledger entry as the same request there.

An AI agent cannot break the glass through these tools (``reason`` offers no
``break_glass``), and a customer's data needs the conversation's ticket every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from vigile.broker import AccessDenied, Broker, Principal
from vigile.broker.approvals import CallApproval, CallAsked
from vigile.broker.grants import Grant
from vigile.model import Action, Ticket, ai_profile
from vigile.model.times import format_rfc3339

__all__ = [
    "MAX_ARGUMENT_BYTES",
    "SUPERVISED",
    "SUPERVISED_TIERS",
    "TOOLS",
    "ApprovalRequired",
    "SupportTool",
    "call_digest",
]

#: The policy that reserves a call to the AI agent's supervising human, and the customer
#: tiers it names (``default.cedar``; a test checks the two agree).
SUPERVISED = "ai-agent-sensitive-contacts-need-supervisor-approval"
SUPERVISED_TIERS = frozenset({"government", "enterprise"})

#: A tool call's arguments, as JSON, are refused past this size (before any parsing
#: beyond the transport's): no argument of these tools needs more.
MAX_ARGUMENT_BYTES = 8192

Reason = Literal["customer_initiated_support", "agent_initiated_review"]
FieldClass = Literal["contact", "account", "billing"]
Revealable = Literal[
    "contact.email", "contact.phone", "account.email", "subscription.monthly_amount"
]
#: An id or a ticket, as the broker takes them.
Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Arguments(BaseModel):
    """What every tool takes: the conversation the call belongs to and the human or
    queue it acts for, both recorded with the call (said by the agent's runtime, they
    decide nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conversation: str | None = Field(
        default=None,
        max_length=200,
        description="The conversation this call belongs to; recorded with the access.",
    )
    on_behalf_of: str | None = Field(
        default=None,
        max_length=200,
        description="The human or queue the conversation acts for; recorded with the access.",
    )


class NoArguments(_Arguments):
    pass


class SearchArguments(_Arguments):
    query: str = Field(min_length=1, max_length=100, description="Part of a customer's name.")


class PageArguments(_Arguments):
    customer: Id = Field(description="The customer's id.")
    ticket: Id = Field(description="The conversation's ticket: the justification.")
    reason: Reason = "customer_initiated_support"


class RevealArguments(PageArguments):
    object: Id = Field(description="The contact, account or subscription id.")
    field: Revealable


class GrantArguments(_Arguments):
    customer: Id = Field(description="The customer's id.")
    classes: list[FieldClass] = Field(min_length=1, max_length=3)
    duration_seconds: int = Field(gt=0, le=7 * 24 * 3600)
    reason: Reason
    ticket: str | None = Field(default=None, max_length=200)


@dataclass(frozen=True, kw_only=True, slots=True)
class SupportTool:
    """One tool: what the client is shown, and the broker request it makes.

    ``action`` is what a call refused before reaching the broker (arguments that do not
    validate) is recorded as; ``None`` for a tool that reads no customer's data."""

    name: str
    title: str
    description: str
    arguments: type[_Arguments]
    action: Action | None
    read_only: bool
    call: Callable[[Broker, Principal, Any], object]

    def input_schema(self) -> dict[str, Any]:
        return self.arguments.model_json_schema()


def _ticket(ticket: Ticket) -> dict[str, object]:
    return {
        "id": ticket.id,
        "customer": ticket.customer,
        "category": ticket.category,
        "opened_at": format_rfc3339(ticket.opened_at),
    }


def _my_tickets(broker: Broker, who: Principal, _: NoArguments) -> object:
    return {"tickets": [_ticket(ticket) for ticket in broker.assigned_tickets(who)]}


def _search(broker: Broker, who: Principal, ask: SearchArguments) -> object:
    return {"customers": broker.search(who, ask.query)}


def _page(broker: Broker, who: Principal, ask: PageArguments) -> object:
    """The customer and its lists, each its own request (and access), all masked."""
    page: dict[str, object] = {
        "customer": broker.view_customer(
            who, ask.customer, ticket=ask.ticket, reason=ask.reason
        ).body
    }
    for what in ("contacts", "accounts", "subscriptions"):
        shown = broker.view_list(who, ask.customer, what, ticket=ask.ticket, reason=ask.reason)
        page[what] = shown.body
    return page


class ApprovalRequired(AccessDenied):
    """Denied until the agent's supervising human approves this exact call: the call's
    pending approval is ``approval``."""

    def __init__(self, denied: AccessDenied, approval: CallApproval) -> None:
        super().__init__(denied.reason, denied.policies)
        self.approval = approval


def call_digest(tool: str, ask: _Arguments) -> str:
    """The digest an approval is bound to: the tool and its arguments (canonical JSON,
    the conversation left out: the same call in another conversation is the same call)."""
    arguments = ask.model_dump(mode="json", exclude={"conversation", "on_behalf_of"})
    text = orjson.dumps({"tool": tool, "arguments": arguments}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).hexdigest()


def _reveal(broker: Broker, who: Principal, ask: RevealArguments) -> object:
    """A reveal, with the supervisor's approval of this exact call when one is waiting
    (taken for this use); denied for want of one, the call's approval is asked for."""
    call = CallAsked(
        agent=who.agent,
        tool="reveal_field",
        customer=ask.customer,
        digest=call_digest("reveal_field", ask),
        policy_version=broker.policy.version,
    )
    approval = broker.approvals.claim(call) if _supervised(broker, who, ask) else None
    try:
        shown = broker.reveal(
            who,
            ask.customer,
            object_id=ask.object,
            field=ask.field,
            ticket=ask.ticket,
            reason=ask.reason,
            approval=approval.facts() if approval else None,
        )
    except AccessDenied as denied:
        supervisor = _supervisor(broker, who.agent)
        if SUPERVISED in denied.policies and approval is None and supervisor is not None:
            pending = broker.approvals.ask(call, supervisor=supervisor)
            raise ApprovalRequired(denied, pending) from denied
        raise
    return shown.body


def _supervised(broker: Broker, who: Principal, ask: RevealArguments) -> bool:
    """Whether the default policies may reserve this reveal to the supervisor (an AI
    agent, a contact field, a customer of :data:`SUPERVISED_TIERS`): only then is an
    approval looked for, so other reveals pay two quick reads, not the approvals' query."""
    if not ask.field.startswith("contact."):
        return False
    with broker.facts.reading() as read:
        agent, _ = read.agent(who.agent)
        customer = read.customer(ask.customer)
    if agent is None or customer is None or ai_profile(agent) is None:
        return False
    return customer.tier in SUPERVISED_TIERS


def _supervisor(broker: Broker, agent_id: str) -> str | None:
    agent = broker.store.agent(agent_id)
    profile = ai_profile(agent) if agent is not None else None
    return profile.supervisor if profile is not None else None


def _grant(grant: Grant) -> dict[str, object]:
    return {
        "id": grant.id,
        "customer": grant.customer,
        "classes": list(grant.classes),
        "status": grant.status.value,
        "lockbox": grant.lockbox,
        "duration_seconds": int(grant.duration.total_seconds()),
    }


def _request_grant(broker: Broker, who: Principal, ask: GrantArguments) -> object:
    grant = broker.request_grant(
        who,
        ask.customer,
        classes=tuple(ask.classes),
        duration=timedelta(seconds=ask.duration_seconds),
        reason=ask.reason,
        ticket=ask.ticket,
    )
    return _grant(grant)


_TOOLS = (
    SupportTool(
        name="my_tickets",
        title="My tickets",
        description=(
            "The open support tickets assigned to you (or to the human or queue you act "
            "for): ticket id, customer id, category. Start here: every customer tool needs "
            "the conversation's ticket."
        ),
        arguments=NoArguments,
        action=None,
        read_only=True,
        call=_my_tickets,
    ),
    SupportTool(
        name="search_customers",
        title="Search customers",
        description=(
            "Customers whose name contains the query: ids and names only, a bounded "
            "number. Every search is recorded."
        ),
        arguments=SearchArguments,
        action=Action.CUSTOMER_SEARCH,
        read_only=True,
        call=_search,
    ),
    SupportTool(
        name="customer_page",
        title="Customer page (masked)",
        description=(
            "A customer's record, contacts, accounts and subscriptions with sensitive "
            "fields masked. Needs the conversation's ticket, open, of this customer and "
            "assigned to you. Every call is recorded in the customer's access log."
        ),
        arguments=PageArguments,
        action=Action.CUSTOMER_VIEW,
        read_only=True,
        call=_page,
    ),
    SupportTool(
        name="reveal_field",
        title="Reveal one field",
        description=(
            "One field of one object of the customer in clear (an email, a phone, an "
            "amount), justified by the conversation's ticket. Ask only for what the "
            "customer's request needs: every reveal is recorded and watched."
        ),
        arguments=RevealArguments,
        action=Action.CONTACT_REVEAL,
        read_only=True,
        call=_reveal,
    ),
    SupportTool(
        name="request_grant",
        title="Request a grant",
        description=(
            "Ask a human approver for temporary access to classes of a customer's data "
            "(contact, account, billing) when no ticket of yours justifies it. The grant "
            "starts pending; approvers are told."
        ),
        arguments=GrantArguments,
        action=Action.GRANT_REQUEST,
        read_only=False,
        call=_request_grant,
    ),
)

#: The tools by name, in the order the client is shown them.
TOOLS: dict[str, SupportTool] = {tool.name: tool for tool in _TOOLS}
