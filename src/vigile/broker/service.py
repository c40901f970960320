"""The access broker: every request of an agent for customer data goes through it.

For each request the broker gathers the facts (the agent, the customer, the ticket as of
now, the agent's active grants, suspension, velocity), asks the policies, builds the masked
or revealed response, and records the ``access`` event (allowed or denied) in the store
and the ledger before returning. If recording fails, the request fails: no access goes
unrecorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cedarpy

from vigile.broker import directory, views
from vigile.broker.containment import DETECTION, Containment
from vigile.broker.errors import AccessDenied, InvalidBrokerRequest, NotFound
from vigile.broker.facts import FactReader
from vigile.broker.grants import Grant, GrantBook, GrantStatus
from vigile.broker.identity import Authenticator, Principal
from vigile.broker.notify import Notice, Notifier
from vigile.broker.velocity import WINDOW, Hold, Limits, Velocity, parse_team_limits
from vigile.model import (
    REASONS,
    Access,
    Account,
    Action,
    Agent,
    AuditEvent,
    Contact,
    Customer,
    Reason,
    Record,
    Subscription,
)
from vigile.policy import (
    DIRECTORY,
    FIELD_CLASSES,
    Decision,
    PolicyEngine,
    RequestFacts,
    entity_of,
    fields_of_classes,
    justification,
    search_context,
)
from vigile.record import GroupCommitter, Recorder
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["BROKER_ACTOR", "Broker"]

#: The actor named in audit events the broker decides on its own (velocity, break-glass).
BROKER_ACTOR = "vigile.broker"

#: What each list shows: the action it is recorded as, the kind of object, the view.
_LISTS: dict[str, tuple[Action, str, Callable[..., views.Shown]]] = {
    "contacts": (Action.CONTACT_VIEW, "contact", views.contacts),
    "accounts": (Action.ACCOUNT_VIEW, "account", views.accounts),
    "subscriptions": (Action.SUBSCRIPTION_VIEW, "subscription", views.subscriptions),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class _Ask:
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


class Broker:
    """The broker service over one store; thread-safe."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        folder = Path(settings.broker_policies) if settings.broker_policies else None
        self.policy = PolicyEngine.load(folder)
        self.facts = FactReader(
            store.engine,
            lock_timeout=settings.db_lock_timeout,
            limit=settings.broker_read_connections,
        )
        # resume: the broker is (nearly always) the only writer between two of its commits.
        recorder = Recorder(store, resume=True)
        self.committer = GroupCommitter(recorder, max_batch=settings.broker_commit_batch)
        self.containment = Containment(store, self.committer, self.clock)
        pending = timedelta(hours=settings.broker_grant_pending_hours)
        self.grants = GrantBook(store, self.committer, self.clock, pending_for=pending)
        self.velocity = Velocity(
            Limits(
                customers=settings.broker_customers_per_hour,
                reveals=settings.broker_reveals_per_hour,
            ),
            parse_team_limits(settings.broker_velocity_teams),
        )
        self.notifier = notifier or Notifier.from_settings(settings)
        self.auth = Authenticator(
            settings, self.containment.sessions, self.committer, self.clock, facts=self.facts
        )
        self.policy.entities.ensure(entity_of(r) for r in directory.all_directory(store))

    def close(self) -> None:
        """Stop the group-commit thread (what is queued is recorded first)."""
        self.committer.close()
        self.facts.close()

    def suspend(self, agent: str, reason: str, *, actor: str = DETECTION) -> str:
        """Containment, as detection, response and analysts ask for it: the agent is
        suspended (every session revoked, every request denied) and every grant it holds
        or waits for is revoked, so nothing it had comes back when it is resumed.
        Returns ``suspended`` or ``already suspended``; each step is an audit event."""
        outcome = self.containment.suspend(agent, reason, actor=actor)
        for status in (GrantStatus.PENDING, GrantStatus.APPROVED):
            for grant in self.grants.history(agent=agent, status=status):
                self.grants.revoke(grant.id, actor=actor)
        return outcome

    def authenticate(
        self, token: str | None, *, ip: str, user_agent: str | None = None
    ) -> Principal:
        """The agent a bearer token names (recording its sign-in if new)."""
        return self.auth.authenticate(token, ip=ip, user_agent=user_agent)

    # -- reading customer data -------------------------------------------------------

    def search(self, principal: Principal, query: str) -> list[dict[str, str | None]]:
        """Customers whose name contains ``query``: ids and names only, bounded."""
        now = self.clock()
        text = query.strip()
        minimum = self.settings.broker_search_min_length
        if len(text) < minimum:
            reason = f"a search needs at least {minimum} characters"
            self._record([self._search_access(principal, now, text, (), Decision.deny(reason))])
            raise InvalidBrokerRequest(reason)
        with self.facts.reading() as facts:
            agent, suspension = facts.agent(principal.agent)
            suspended = (suspension or facts.suspension(principal.agent)) is not None
        known = agent is not None
        context = search_context(
            now=now,
            query=text,
            suspended=suspended,
            velocity_exceeded=False,
            mfa=principal.has_mfa,
        )
        decision = self._decide(principal, "customer.search", DIRECTORY, context)
        if not known:
            decision = Decision.deny("unknown agent: not in the directory")
        found = directory.search_customers(self.store, text, self.settings.broker_search_limit)
        results = tuple(key for key, _ in found) if decision.allowed else ()
        self._record([self._search_access(principal, now, text, results, decision)])
        if not decision.allowed:
            raise AccessDenied(decision.reason, decision.policies)
        return [{"id": key, "name": name} for key, name in found]

    def view_customer(
        self, principal: Principal, customer_id: str, *, ticket: str | None, reason: str
    ) -> views.Shown:
        """The customer's own record (name, tier, country)."""
        customer = self._customer(principal, Action.CUSTOMER_VIEW, customer_id, ticket, reason)
        ask = _Ask(
            action=Action.CUSTOMER_VIEW,
            customer=customer,
            resource=("Customer", customer.id),
            reason=reason,
            ticket=ticket,
        )
        return self._serve(principal, ask, lambda: views.customer(customer))

    def view_list(
        self, principal: Principal, customer_id: str, what: str, *, ticket: str | None, reason: str
    ) -> views.Shown:
        """A customer's contacts, accounts or subscriptions, masked."""
        action, kind, show = _LISTS[what]
        customer = self._customer(principal, action, customer_id, ticket, reason)
        with self.facts.reading() as facts:
            records = facts.objects_of(kind, customer.id)
        ask = _Ask(
            action=action,
            customer=customer,
            resource=("Customer", customer.id),
            reason=reason,
            ticket=ticket,
        )
        return self._serve(principal, ask, lambda: show(records))

    def reveal(
        self,
        principal: Principal,
        customer_id: str,
        *,
        object_id: str,
        field: str,
        ticket: str | None,
        reason: str,
    ) -> views.Shown:
        """One field of one object in clear, with a justification."""
        if field not in views.REVEALABLE:
            raise InvalidBrokerRequest(f"{field!r} cannot be revealed")
        action = Action(views.REVEALABLE[field])
        customer = self._customer(principal, action, customer_id, ticket, reason)
        with self.facts.reading() as facts:
            record = facts.object(field.split(".", 1)[0], object_id)
        if record is None or record.customer != customer.id:
            self._record(
                [
                    self._denied(
                        principal,
                        action=action,
                        customer=customer.id,
                        ticket=ticket,
                        reason=reason,
                        why="no such object",
                    )
                ]
            )
            raise NotFound(f"customer {customer.id} has no object {object_id!r}")
        ask = _Ask(
            action=action,
            customer=customer,
            resource=(type(record).__name__, record.id),
            reason=reason,
            ticket=ticket,
            clear=frozenset({field}),
            objects=(record,),
            object=record.id,
        )
        return self._serve(principal, ask, lambda: views.revealed(record, field))

    def export(
        self, principal: Principal, customer_id: str, *, ticket: str | None, reason: str
    ) -> views.Shown:
        """A bulk export of a customer's data: forbidden by the default policies."""
        customer = self._customer(principal, Action.EXPORT, customer_id, ticket, reason)
        with self.facts.reading() as facts:
            found = facts.objects_of("contact", customer.id)
        contacts = [c for c in found if isinstance(c, Contact)]
        ask = _Ask(
            action=Action.EXPORT,
            customer=customer,
            resource=("Customer", customer.id),
            reason=reason,
            ticket=ticket,
            clear=frozenset({"contact.email", "contact.phone"}),
        )
        body = [{"id": c.id, "email": c.email, "phone": c.phone} for c in contacts]
        return self._serve(
            principal,
            ask,
            lambda: views.Shown(body=body, fields=("contact.email", "contact.phone")),
        )

    def refuse(
        self,
        principal: Principal,
        action: Action,
        *,
        customer: str | None,
        ticket: str | None,
        reason: str,
        why: str,
    ) -> None:
        """Record a request for customer data refused before it reached a decision (its
        input did not validate): every request for data leaves its access, allowed or
        not. Text is cut to the lengths a valid request may have."""
        self._record(
            [
                _access_event(
                    principal,
                    self.clock(),
                    Decision.deny(why[:500]),
                    action=action,
                    customer=customer[:200] if customer else None,
                    ticket=ticket[:200] if ticket else None,
                    reason=_reason(reason),
                )
            ]
        )

    def under_lockbox(self, customer: Customer | str) -> bool:
        """Whether only the customer's own approver may approve grants on its data: its
        tier, as the store has it now, is one of ``VIGILE_BROKER_LOCKBOX_TIERS``."""
        if isinstance(customer, str):
            with self.facts.reading() as read:
                found = read.customer(customer)
            if found is None:
                return False
            customer = found
        return (customer.tier or "") in _tiers(self.settings.broker_lockbox_tiers)

    # -- grants ----------------------------------------------------------------------

    def request_grant(
        self,
        principal: Principal,
        customer_id: str,
        *,
        classes: tuple[str, ...],
        duration: timedelta,
        reason: str,
        ticket: str | None,
    ) -> Grant:
        """Ask for a just-in-time grant; approvers are told through the channels."""
        customer = self._customer(principal, Action.GRANT_REQUEST, customer_id, ticket, reason)
        try:
            _check_grant_request(classes, duration, reason, self.settings)
        except InvalidBrokerRequest as exc:
            denied = self._denied(
                principal,
                action=Action.GRANT_REQUEST,
                customer=customer.id,
                ticket=ticket,
                reason=reason,
                why=str(exc),
            )
            self._record([denied])
            raise
        ask = _Ask(
            action=Action.GRANT_REQUEST,
            customer=customer,
            resource=("Customer", customer.id),
            reason=reason,
            ticket=ticket,
            counts=False,
        )
        self._serve(principal, ask, lambda: views.Shown(body=None, fields=()))
        lockbox = self.under_lockbox(customer)
        grant = self.grants.request(
            agent=principal.agent,
            customer=customer.id,
            classes=tuple(dict.fromkeys(classes)),
            duration=duration,
            reason=reason,
            ticket=ticket,
            lockbox=lockbox,
        )
        self.notifier.notify(
            Notice(
                grant=grant.id,
                agent=grant.agent,
                customer=grant.customer,
                classes=grant.classes,
                reason=grant.reason,
                ticket=grant.ticket,
                duration_s=int(duration.total_seconds()),
                lockbox=lockbox,
            )
        )
        return grant

    # -- the core --------------------------------------------------------------------

    def _customer(
        self,
        principal: Principal,
        action: Action,
        customer_id: str,
        ticket: str | None,
        reason: str,
    ) -> Customer:
        with self.facts.reading() as facts:
            customer = facts.customer(customer_id)
        if customer is None:
            denied = self._denied(
                principal,
                action=action,
                customer=customer_id,
                ticket=ticket,
                reason=reason,
                why="unknown customer",
            )
            self._record([denied])
            raise NotFound(f"no customer {customer_id!r}")
        return customer

    def _serve(
        self, principal: Principal, ask: _Ask, build: Callable[[], views.Shown]
    ) -> views.Shown:
        """Decide, record (before answering), then answer or raise :class:`AccessDenied`."""
        now = self.clock()
        decision, exceeded, used, hold = self._weigh(principal, ask, now)
        counted = False
        try:
            shown = build() if decision.allowed else None
            # Under the id its velocity hold expects: reading it back does not count it twice.
            access = self._access(
                principal, ask, now, decision, shown, id=hold.access if hold else _access_id()
            )
            extra = self._consequences(
                principal,
                ask=ask,
                now=now,
                decision=decision,
                exceeded=exceeded,
                access_id=access.id,
            )
            if used is not None:
                extra.append(self._grant_use(access, used))
            self._record([access, *extra])
            counted = decision.allowed
        finally:
            if hold is not None:  # the place held since the check: kept only if counted
                self.velocity.settle(hold, counted=counted, now=now)
        if exceeded and not decision.allowed and self.settings.broker_velocity_suspend:
            # As containment does: sessions and grants go, so nothing comes back on resume.
            self.suspend(principal.agent, f"velocity limit: {exceeded}", actor=BROKER_ACTOR)
        if shown is None:
            raise AccessDenied(decision.reason, decision.policies)
        return shown

    def _weigh(
        self, principal: Principal, ask: _Ask, now: datetime
    ) -> tuple[Decision, str | None, Grant | None, Hold | None]:
        """The decision, the velocity limit exceeded if any, the grant that justified the
        access if one did, and the place held in the agent's velocity window (to settle
        once the access is recorded, or not)."""
        if ask.reason not in REASONS:
            known = ", ".join(sorted(REASONS))
            return Decision.deny(f"unknown reason code (one of: {known})"), None, None, None
        self.grants.sweep(now)  # before reading: a sweep records, and must not wait on us
        with self.facts.reading() as read:
            agent, suspension = read.agent(principal.agent)
            if agent is None:
                return Decision.deny("unknown agent: not in the directory"), None, None, None
            grants = read.active_grants(agent.id, ask.customer.id, now)
            ticket = read.ticket_as_of(ask.ticket, now) if ask.ticket else None
            # What any broker process (or a restart's predecessor) recorded since we looked.
            stored = read.allowed_accesses(
                agent.id, since=now - WINDOW, after_seq=self.velocity.read_after(agent.id)
            )
        suspended = suspension is not None
        # The handle holding these entities as read: the decision uses no older one.
        handle = self.policy.entities.ensure(
            [entity_of(agent), entity_of(ask.customer), *(entity_of(o) for o in ask.objects)]
        )
        held = self.velocity.reserve(
            agent.id,
            agent.team,
            ask.customer.id if ask.counts else None,
            reveal=bool(ask.clear),
            now=now,
            access=_access_id(),
            stored=stored,
        )
        hold = held if isinstance(held, Hold) else None
        exceeded = held if isinstance(held, str) else None
        try:
            base = RequestFacts(
                now=now,
                customer=ask.customer.id,
                reason=ask.reason,
                clear=ask.clear,
                ticket=ticket,
                suspended=suspended,
                velocity_exceeded=exceeded is not None,
                mfa=principal.has_mfa,
            )
            decision, grant = self._with_grants(principal, ask, base, grants, handle)
            used = (
                grant
                if grant is not None
                and decision.allowed
                and self._needs_grant(principal, ask, base, handle)
                else None
            )
        except BaseException:
            if hold is not None:
                self.velocity.settle(hold, counted=False, now=now)
            raise
        return decision, exceeded, used, hold

    def _with_grants(
        self,
        principal: Principal,
        ask: _Ask,
        base: RequestFacts,
        grants: list[Grant],
        entities: cedarpy.Entities,
    ) -> tuple[Decision, Grant | None]:
        """The decision with the first active grant under which the policies allow the
        request (customer-approved first, then the longest lasting): a grant of other
        fields must not hide one that covers them. With none allowing, the decision under
        the first (its reasons are the ones to give)."""
        first: tuple[Decision, Grant | None] | None = None
        candidates: list[Grant | None] = [*grants] or [None]
        for grant in candidates:
            facts = replace(base, grant=grant.facts() if grant else None)
            context = justification(facts)
            decision = self._decide(principal, ask.action.value, ask.resource, context, entities)
            if decision.allowed:
                return decision, grant
            first = first or (decision, grant)
        assert first is not None
        return first

    def _needs_grant(
        self, principal: Principal, ask: _Ask, facts: RequestFacts, entities: cedarpy.Entities
    ) -> bool:
        """Whether the grant justified an allowed access: without it, the access would
        have been denied (no other justification, or a forbid only a grant lifts)."""
        without = justification(replace(facts, grant=None))
        decision = self._decide(principal, ask.action.value, ask.resource, without, entities)
        return not decision.allowed

    def _decide(
        self,
        principal: Principal,
        action: str,
        resource: tuple[str, str],
        context: dict[str, object],
        entities: cedarpy.Entities | None = None,
    ) -> Decision:
        return self.policy.decide(
            principal=("Agent", principal.agent),
            action=action,
            resource=resource,
            context=context,
            entities=entities,
        )

    def _consequences(
        self,
        principal: Principal,
        *,
        ask: _Ask,
        now: datetime,
        decision: Decision,
        exceeded: str | None,
        access_id: str,
    ) -> list[Record]:
        """Audit events a decision calls for: a velocity breach (detection reads it),
        a break-glass access (always reviewed)."""
        events: list[Record] = list(ask.audits)
        details: dict[str, object] = {"access": access_id, "action": ask.action.value}
        if exceeded and not decision.allowed:
            limits = self.velocity.limits_of(self._team(principal.agent))
            limit = limits.customers if exceeded == "customers" else limits.reveals
            details |= {"limit": exceeded, "per_hour": limit}
            events.append(
                self._audit("velocity.breach", principal.agent, ask.customer.id, now, details)
            )
        if decision.allowed and ask.reason == Reason.BREAK_GLASS.value:
            details |= {"fields": sorted(ask.clear), "review": "required"}
            events.append(
                self._audit("break_glass.used", principal.agent, ask.customer.id, now, details)
            )
        return events

    def _team(self, agent_id: str) -> str | None:
        agent: Agent | None = self.store.agent(agent_id)
        return agent.team if agent else None

    # -- events ----------------------------------------------------------------------

    @staticmethod
    def _grant_use(access: Access, grant: Grant) -> Access:
        """The ``grant.use`` access recorded beside an access a grant justified: the data
        stays counted once (in the access itself), the grant and the access are named."""
        return Access(
            id=f"acc-{uuid.uuid4().hex}",
            time=access.time,
            agent=access.agent,
            session=access.session,
            ip=access.ip,
            action=Action.GRANT_USE,
            customer=access.customer,
            ticket=access.ticket,
            reason=access.reason,
            outcome="allowed",
            extra={
                "grant": grant.id,
                "access": access.id,
                "action": access.action.value,
                "grant_fields": sorted(fields_of_classes(grant.classes)),
            },
        )

    def _record(self, records: list[Record]) -> None:
        self.committer.record(records)

    @staticmethod
    def _audit(
        action: str, agent: str, customer: str, now: datetime, details: dict[str, object]
    ) -> AuditEvent:
        return AuditEvent(
            id=f"audit-{uuid.uuid4().hex}",
            time=now,
            action=action,
            actor=BROKER_ACTOR,
            subject=agent,
            customer=customer,
            details=dict(details),
        )

    def _access(
        self,
        principal: Principal,
        ask: _Ask,
        now: datetime,
        decision: Decision,
        shown: views.Shown | None,
        *,
        id: str,
    ) -> Access:
        return _access_event(
            principal,
            now,
            decision,
            id=id,
            action=ask.action,
            customer=ask.customer.id,
            object=ask.object,
            fields=shown.fields if shown else (),
            masked_fields=shown.masked_fields if shown else (),
            ticket=ask.ticket,
            reason=_reason(ask.reason),
            extra={"policies": list(decision.policies)},
        )

    def _denied(
        self,
        principal: Principal,
        *,
        action: Action,
        customer: str,
        ticket: str | None,
        reason: str,
        why: str,
    ) -> Access:
        return _access_event(
            principal,
            self.clock(),
            Decision.deny(why),
            action=action,
            customer=customer,
            ticket=ticket,
            reason=_reason(reason),
        )

    def _search_access(
        self,
        principal: Principal,
        now: datetime,
        query: str,
        results: tuple[str, ...],
        decision: Decision,
    ) -> Access:
        return _access_event(
            principal,
            now,
            decision,
            action=Action.CUSTOMER_SEARCH,
            query=query,
            results=results,
            fields=("customer.name",) if results else (),
            reason=Reason.NONE,
            extra={"policies": list(decision.policies)},
        )


def _access_id() -> str:
    return f"acc-{uuid.uuid4().hex}"


def _access_event(
    principal: Principal, now: datetime, decision: Decision, *, id: str | None = None, **what: Any
) -> Access:
    """An ``access`` event of ``principal`` at ``now``, with the decision's outcome."""
    return Access(
        id=id or _access_id(),
        time=now,
        agent=principal.agent,
        session=principal.session,
        ip=principal.ip,
        outcome="allowed" if decision.allowed else "denied",
        deny_reason=None if decision.allowed else decision.reason,
        **what,
    )


#: Reason codes a grant request may give.
GRANT_REASONS = frozenset(
    {Reason.CUSTOMER_INITIATED_SUPPORT, Reason.AGENT_INITIATED_REVIEW, Reason.BREAK_GLASS}
)


def _reason(text: str) -> Reason | None:
    """The reason code as recorded (an unknown one is recorded as absent)."""
    return Reason(text) if text in REASONS else None


def _tiers(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _check_grant_request(
    classes: tuple[str, ...], duration: timedelta, reason: str, settings: Settings
) -> None:
    if not classes or any(name not in FIELD_CLASSES for name in classes):
        known = ", ".join(sorted(FIELD_CLASSES))
        raise InvalidBrokerRequest(f"field classes must be some of: {known}")
    if reason not in GRANT_REASONS:
        raise InvalidBrokerRequest(
            f"a grant's reason must be one of: {', '.join(sorted(GRANT_REASONS))}"
        )
    longest = timedelta(hours=settings.broker_grant_max_hours)
    if not timedelta(0) < duration <= longest:
        raise InvalidBrokerRequest(
            f"a grant lasts more than 0 and at most {int(longest.total_seconds())} seconds"
        )
