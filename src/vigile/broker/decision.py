"""The broker's decision pipeline: one request on a customer's data, weighed.

:meth:`DecisionPipeline.weigh` runs the steps in order, each a method of its own:

1. the reason code is one the policies know (else denied, nothing read);
2. grants past their time are expired (a sweep records, so it runs before reading);
3. the facts are read in one snapshot: the agent, its suspension, its active grants on
   the customer, the ticket as of now, its allowed accesses stored since last counted;
4. the Cedar entities of the agent, the customer and the objects, as just read;
5. the agent's velocity window: a place held, or the limit the request would exceed;
6. the decision under each active grant in turn, the first that allows winning;
7. whether that grant was needed (without it, the request would have been denied).

The place held in step 5 is released if anything after it fails; otherwise the caller
settles it once the access is recorded (:meth:`Velocity.settle`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import cedarpy

from vigile.broker.events import access_id
from vigile.broker.facts import FactReader
from vigile.broker.grants import Grant, GrantBook
from vigile.broker.identity import Principal
from vigile.broker.velocity import WINDOW, Hold, Stored, Velocity
from vigile.model import (
    REASONS,
    Account,
    Action,
    Agent,
    AuditEvent,
    Contact,
    Customer,
    Subscription,
    Ticket,
    ai_profile,
)
from vigile.policy import (
    ApprovalFacts,
    Decision,
    PolicyEngine,
    RequestFacts,
    entity_of,
    justification,
)

__all__ = ["Ask", "DecisionPipeline", "Weighed"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Ask:
    """One request on a customer's data, as the broker weighs it."""

    action: Action
    customer: Customer
    resource: tuple[str, str]
    reason: str
    ticket: str | None
    clear: frozenset[str] = frozenset()
    objects: tuple[Contact | Account | Subscription, ...] = ()
    object: str | None = None
    counts: bool = True  # counts towards the distinct-customers limit
    audits: list[AuditEvent] = field(default_factory=list)
    approval: ApprovalFacts | None = None  # a supervisor's approval of this exact call


@dataclass(frozen=True, kw_only=True, slots=True)
class Weighed:
    """The outcome of :meth:`DecisionPipeline.weigh`: the decision, the velocity limit
    exceeded if any, the grant that justified the access if one was needed, and the
    place held in the agent's velocity window (to settle once the access is recorded)."""

    decision: Decision
    exceeded: str | None = None
    grant_used: Grant | None = None
    hold: Hold | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Snapshot:
    """The facts of step 3, read together."""

    agent: Agent
    suspended: bool
    grants: list[Grant]
    ticket: Ticket | None
    stored: list[Stored]


class DecisionPipeline:
    """Weighs requests against the policies, the grants and the velocity limits."""

    def __init__(
        self, *, policy: PolicyEngine, facts: FactReader, grants: GrantBook, velocity: Velocity
    ) -> None:
        self.policy = policy
        self.facts = facts
        self.grants = grants
        self.velocity = velocity

    def weigh(self, principal: Principal, ask: Ask, now: datetime) -> Weighed:
        """Steps 1 to 7 (module docstring); the caller must settle the returned hold."""
        refused = _unknown_reason(ask)
        if refused is not None:
            return Weighed(decision=refused)
        self.grants.sweep(now)  # before reading: a sweep records, and must not wait on us
        snapshot = self._read(principal, ask, now)
        if snapshot is None:
            return Weighed(decision=Decision.deny("unknown agent: not in the directory"))
        entities = self._entities(snapshot.agent, ask)
        held = self._reserve(snapshot, ask, now)
        hold = held if isinstance(held, Hold) else None
        exceeded = held if isinstance(held, str) else None
        try:
            facts = _request_facts(principal, ask, snapshot, now, exceeded=exceeded)
            decision, grant = self._under_grants(principal, ask, facts, snapshot.grants, entities)
            needed = grant is not None and decision.allowed
            used = grant if needed and self._grant_needed(principal, ask, facts, entities) else None
        except BaseException:
            if hold is not None:
                self.velocity.settle(hold, counted=False, now=now)
            raise
        return Weighed(decision=decision, exceeded=exceeded, grant_used=used, hold=hold)

    def decide(
        self,
        principal: Principal,
        action: str,
        resource: tuple[str, str],
        context: dict[str, object],
        entities: cedarpy.Entities | None = None,
    ) -> Decision:
        """The policies' decision for the agent ``principal`` names."""
        return self.policy.decide(
            principal=("Agent", principal.agent),
            action=action,
            resource=resource,
            context=context,
            entities=entities,
        )

    # -- the steps -------------------------------------------------------------------

    def _read(self, principal: Principal, ask: Ask, now: datetime) -> _Snapshot | None:
        """Step 3: the facts, in one snapshot; ``None`` for an agent not in the directory."""
        with self.facts.reading() as read:
            agent, suspension = read.agent(principal.agent)
            if agent is None:
                return None
            return _Snapshot(
                agent=agent,
                suspended=suspension is not None,
                grants=read.active_grants(agent.id, ask.customer.id, now),
                ticket=read.ticket_as_of(ask.ticket, now) if ask.ticket else None,
                # What any broker process (or a restart's predecessor) recorded since.
                stored=read.allowed_accesses(
                    agent.id, since=now - WINDOW, after_seq=self.velocity.read_after(agent.id)
                ),
            )

    def _entities(self, agent: Agent, ask: Ask) -> cedarpy.Entities:
        """Step 4: the handle holding these entities as read (no older one decides)."""
        return self.policy.entities.ensure(
            [entity_of(agent), entity_of(ask.customer), *(entity_of(o) for o in ask.objects)]
        )

    def _reserve(self, snapshot: _Snapshot, ask: Ask, now: datetime) -> str | Hold:
        """Step 5: a place in the agent's velocity window, or the limit exceeded."""
        return self.velocity.reserve(
            snapshot.agent.id,
            snapshot.agent.team,
            ask.customer.id if ask.counts else None,
            reveal=bool(ask.clear),
            now=now,
            access=access_id(),
            stored=snapshot.stored,
            ai=ai_profile(snapshot.agent) is not None,
        )

    def _under_grants(
        self,
        principal: Principal,
        ask: Ask,
        facts: RequestFacts,
        grants: list[Grant],
        entities: cedarpy.Entities,
    ) -> tuple[Decision, Grant | None]:
        """Step 6: the decision with the first active grant under which the policies
        allow the request (customer-approved first, then the longest lasting): a grant of
        other fields must not hide one that covers them. With none allowing, the
        decision under the first (its reasons are the ones to give)."""
        first: tuple[Decision, Grant | None] | None = None
        candidates: list[Grant | None] = [*grants] or [None]
        for grant in candidates:
            context = justification(replace(facts, grant=grant.facts() if grant else None))
            decision = self.decide(principal, ask.action.value, ask.resource, context, entities)
            if decision.allowed:
                return decision, grant
            first = first or (decision, grant)
        assert first is not None
        return first

    def _grant_needed(
        self, principal: Principal, ask: Ask, facts: RequestFacts, entities: cedarpy.Entities
    ) -> bool:
        """Step 7: whether the grant justified an allowed access: without it, the access
        would have been denied (no other justification, or a forbid only a grant lifts)."""
        without = justification(replace(facts, grant=None))
        decision = self.decide(principal, ask.action.value, ask.resource, without, entities)
        return not decision.allowed


def _unknown_reason(ask: Ask) -> Decision | None:
    """Step 1: a denial for a reason code the policies do not know."""
    if ask.reason in REASONS:
        return None
    return Decision.deny(f"unknown reason code (one of: {', '.join(sorted(REASONS))})")


def _request_facts(
    principal: Principal, ask: Ask, snapshot: _Snapshot, now: datetime, *, exceeded: str | None
) -> RequestFacts:
    """What the policies are told of the request (the grant is added per candidate)."""
    return RequestFacts(
        now=now,
        customer=ask.customer.id,
        reason=ask.reason,
        clear=ask.clear,
        ticket=snapshot.ticket,
        approval=ask.approval,
        suspended=snapshot.suspended,
        velocity_exceeded=exceeded is not None,
        mfa=principal.has_mfa,
    )
