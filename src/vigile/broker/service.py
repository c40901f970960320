"""The access broker's request surface: every request of an agent for customer data
comes in here.

Each method finds what the request is about, hands it to the decision pipeline
(:mod:`vigile.broker.decision`), records the ``access`` event (allowed or denied,
:mod:`vigile.broker.events`) in the store and the ledger through the one write path
(:mod:`vigile.record`), and only then answers with the masked or revealed view
(:mod:`vigile.broker.views`). If recording fails, the request fails: no access goes
unrecorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigile.broker import directory, events, views
from vigile.broker.approvals import ApprovalBook
from vigile.broker.containment import DETECTION, Containment
from vigile.broker.decision import Ask, DecisionPipeline
from vigile.broker.errors import AccessDenied, InvalidBrokerRequest, NotFound
from vigile.broker.events import BROKER_ACTOR
from vigile.broker.facts import FactReader
from vigile.broker.grants import Grant, GrantBook, GrantStatus, check_request
from vigile.broker.identity import Authenticator, Principal
from vigile.broker.notify import Notice, Notifier
from vigile.broker.velocity import Limits, Velocity, parse_team_limits
from vigile.ledger.running import IntegratorLoop
from vigile.model import (
    Access,
    Action,
    Contact,
    Customer,
    Record,
    Ticket,
    ai_profile,
)
from vigile.policy import (
    DIRECTORY,
    ApprovalFacts,
    Decision,
    PolicyEngine,
    entity_of,
    search_context,
)
from vigile.record import GroupCommitter, Recorder
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["Broker"]

#: What each list shows: the action it is recorded as, the kind of object, the view.
_LISTS: dict[str, tuple[Action, str, Callable[..., views.Shown]]] = {
    "contacts": (Action.CONTACT_VIEW, "contact", views.contacts),
    "accounts": (Action.ACCOUNT_VIEW, "account", views.accounts),
    "subscriptions": (Action.SUBSCRIPTION_VIEW, "subscription", views.subscriptions),
}


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
        # No Merkle work in the commit: the integrator extends the tree afterwards, another
        # process at scale, a thread of this one on PostgreSQL in the embedded mode. On
        # SQLite (one writer at a time anyway) the commit thread integrates right after
        # each commit, in a transaction of its own: a second writing thread would make
        # this process's deferred transactions fail to take the write lock.
        embedded = settings.integrator == "embedded"
        inline = embedded and store.engine.dialect.name == "sqlite"
        recorder = Recorder(store, resume=True, integrate=inline)
        self.ledger = recorder.ledger
        self.integrator: IntegratorLoop | None = None
        if embedded and not inline:
            self.integrator = IntegratorLoop(self.ledger)
        if not embedded:
            self.ledger.require_signer()  # at start-up, not at the first answer
        self.committer = GroupCommitter(
            recorder, max_batch=settings.broker_commit_batch, on_commit=self._committed
        )
        self.containment = Containment(store, self.committer, self.clock)
        pending = timedelta(hours=settings.broker_grant_pending_hours)
        self.grants = GrantBook(store, self.committer, self.clock, pending_for=pending)
        self.approvals = ApprovalBook(store, self.committer, self.clock)
        self.velocity = Velocity(
            Limits(
                customers=settings.broker_customers_per_hour,
                reveals=settings.broker_reveals_per_hour,
            ),
            parse_team_limits(settings.broker_velocity_teams),
            ai=Limits(
                customers=settings.broker_ai_customers_per_hour,
                reveals=settings.broker_ai_reveals_per_hour,
            ),
        )
        self.decisions = DecisionPipeline(
            policy=self.policy, facts=self.facts, grants=self.grants, velocity=self.velocity
        )
        self.notifier = notifier or Notifier.from_settings(settings)
        self.auth = Authenticator(
            settings, self.containment.sessions, self.committer, self.clock, facts=self.facts
        )
        self.policy.entities.ensure(entity_of(r) for r in directory.all_directory(store))
        self._integrating = False

    def close(self) -> None:
        """Stop the group-commit thread (what is queued is recorded first), then the
        embedded integrator (what is recorded is integrated first)."""
        self.committer.close()
        if self.integrator is not None:
            self.integrator.close()
        self.facts.close()

    def _committed(self) -> None:
        """After each group commit: the embedded integrator (started with the first) has
        leaves to integrate."""
        if self.integrator is None:
            return
        if not self._integrating:
            self._integrating = True
            self.integrator.start()
        self.integrator.wake()

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

    def assigned_tickets(self, principal: Principal) -> list[Ticket]:
        """The open tickets assigned to the agent now: its own work queue (ids, customer
        ids, categories; nothing of a customer's data is read, so it is no access). An
        agent not in the directory, or suspended, is refused."""
        with self.facts.reading() as facts:
            agent, suspension = facts.agent(principal.agent)
        if agent is None:
            raise AccessDenied("unknown agent: not in the directory")
        if suspension is not None:
            raise AccessDenied("your account is suspended; ask a security analyst")
        limit = self.settings.broker_search_limit
        return directory.assigned_tickets(self.store, principal.agent, self.clock(), limit)

    def search(self, principal: Principal, query: str) -> list[dict[str, str | None]]:
        """Customers whose name contains ``query``: ids and names only, bounded."""
        now = self.clock()
        text = query.strip()
        minimum = self.settings.broker_search_min_length
        if len(text) < minimum:
            reason = f"a search needs at least {minimum} characters"
            self._record([events.search_access(principal, now, text, (), Decision.deny(reason))])
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
        decision = self.decisions.decide(principal, "customer.search", DIRECTORY, context)
        if not known:
            decision = Decision.deny("unknown agent: not in the directory")
        found = directory.search_customers(self.store, text, self.settings.broker_search_limit)
        results = tuple(key for key, _ in found) if decision.allowed else ()
        self._record([events.search_access(principal, now, text, results, decision)])
        if not decision.allowed:
            raise AccessDenied(decision.reason, decision.policies)
        return [{"id": key, "name": name} for key, name in found]

    def view_customer(
        self, principal: Principal, customer_id: str, *, ticket: str | None, reason: str
    ) -> views.Shown:
        """The customer's own record (name, tier, country)."""
        customer = self._customer(principal, Action.CUSTOMER_VIEW, customer_id, ticket, reason)
        ask = Ask(
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
        ask = Ask(
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
        approval: ApprovalFacts | None = None,
    ) -> views.Shown:
        """One field of one object in clear, with a justification (and, for an AI
        agent's call the policies reserve to its supervisor, the approval of that call)."""
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
        ask = Ask(
            action=action,
            customer=customer,
            resource=(type(record).__name__, record.id),
            reason=reason,
            ticket=ticket,
            clear=frozenset({field}),
            objects=(record,),
            object=record.id,
            approval=approval,
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
        ask = Ask(
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
                events.access_event(
                    principal,
                    self.clock(),
                    Decision.deny(why[:500]),
                    action=action,
                    customer=customer[:200] if customer else None,
                    ticket=ticket[:200] if ticket else None,
                    reason=events.reason_code(reason),
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
            longest = timedelta(hours=self.settings.broker_grant_max_hours)
            check_request(classes, duration, reason, longest=longest)
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
        ask = Ask(
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
        self, principal: Principal, ask: Ask, build: Callable[[], views.Shown]
    ) -> views.Shown:
        """Decide, record (before answering), then answer or raise :class:`AccessDenied`."""
        now = self.clock()
        weighed = self.decisions.weigh(principal, ask, now)
        decision, hold = weighed.decision, weighed.hold
        counted = False
        try:
            shown = build() if decision.allowed else None
            # Under the id its velocity hold expects: reading it back does not count it twice.
            access = self._access(
                principal, ask, now, decision, shown, id=hold.access if hold else None
            )
            extra = self._consequences(
                principal,
                ask,
                now=now,
                decision=decision,
                exceeded=weighed.exceeded,
                access=access,
            )
            if weighed.grant_used is not None:
                extra.append(events.grant_use(access, weighed.grant_used))
            leaves = self.committer.record([access, *extra])
            counted = decision.allowed
        finally:
            if hold is not None:  # the place held since the check: kept only if counted
                self.velocity.settle(hold, counted=counted, now=now)
        if weighed.exceeded and not decision.allowed and self.settings.broker_velocity_suspend:
            # As containment does: sessions and grants go, so nothing comes back on resume.
            reason = f"velocity limit: {weighed.exceeded}"
            self.suspend(principal.agent, reason, actor=BROKER_ACTOR)
        if shown is None:
            raise AccessDenied(decision.reason, decision.policies)
        leaf = leaves.get(access.id)
        promise = self.ledger.promise(leaf) if leaf is not None else None
        return replace(shown, event=access.id, promise=promise)

    def _consequences(
        self,
        principal: Principal,
        ask: Ask,
        *,
        now: datetime,
        decision: Decision,
        exceeded: str | None,
        access: Access,
    ) -> list[Record]:
        """The audit events the request brought (lockbox steps) and those its decision
        calls for (a velocity breach, break-glass)."""
        per_hour = 0
        if exceeded and not decision.allowed:
            agent = self.store.agent(principal.agent)
            team, ai = (agent.team, ai_profile(agent) is not None) if agent else (None, False)
            limits = self.velocity.limits_of(team, ai=ai)
            per_hour = limits.customers if exceeded == "customers" else limits.reveals
        called_for = events.consequences(
            agent=principal.agent,
            customer=ask.customer.id,
            action=ask.action,
            reason=ask.reason,
            clear=ask.clear,
            decision=decision,
            exceeded=exceeded,
            per_hour=per_hour,
            access=access.id,
            now=now,
        )
        return [*ask.audits, *called_for]

    # -- events ----------------------------------------------------------------------

    def _record(self, records: list[Record]) -> None:
        self.committer.record(records)

    def _access(
        self,
        principal: Principal,
        ask: Ask,
        now: datetime,
        decision: Decision,
        shown: views.Shown | None,
        *,
        id: str | None,
    ) -> Access:
        return events.access_event(
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
            reason=events.reason_code(ask.reason),
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
        return events.access_event(
            principal,
            self.clock(),
            Decision.deny(why),
            action=action,
            customer=customer,
            ticket=ticket,
            reason=events.reason_code(reason),
        )


def _tiers(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())
