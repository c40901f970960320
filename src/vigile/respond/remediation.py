"""Remediation of an incident: plan, then apply (idempotent, every action recorded).

The plan, derived from the scope and the blast radius:

- ``suspend-agent:A``: suspend agent A, revoking its grants and sessions. The broker does
  it through the :class:`AgentSuspension` port; Vigile records ``agent.suspended``.
- ``reverify-contact:K``: mark exposed contact K for re-verification (its details may
  now be used to impersonate it, or it may be the target of phishing).
- ``rename-account:U``: exposed account U is renamed at the customer's request
  (:meth:`Remediation.rename`), which retires the old username for good. Listed, never
  applied by ``apply``: only the customer can choose the new name.

``apply`` skips what is already applied, so applying twice equals applying once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from vigile.model.times import to_micros
from vigile.respond.blast import blast_radius
from vigile.respond.errors import InvalidScope, UnknownAccount
from vigile.respond.incidents import Incidents
from vigile.respond.retired import check_registration, username_keys
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["ActionKind", "AgentSuspension", "PlannedAction", "Remediation", "Rename"]


class AgentSuspension(Protocol):
    """The broker's port: suspend an agent, revoking its grants and sessions; returns
    what happened, in a word (same shape as detection's containment port)."""

    def suspend(self, agent: str, reason: str) -> str: ...


class ActionKind(StrEnum):
    SUSPEND_AGENT = "suspend-agent"
    REVERIFY_CONTACT = "reverify-contact"
    RENAME_ACCOUNT = "rename-account"


@dataclass(frozen=True, kw_only=True, slots=True)
class PlannedAction:
    """One action of the plan, and whether it is done."""

    kind: ActionKind
    target: str
    customer: str | None
    applied: bool

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.target}"

    @property
    def automatic(self) -> bool:
        """Applied by ``apply`` (a rename waits for the customer's request)."""
        return self.kind is not ActionKind.RENAME_ACCOUNT

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.key,
            "kind": self.kind.value,
            "target": self.target,
            "customer": self.customer,
            "applied": self.applied,
            "automatic": self.automatic,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Rename:
    """A username (and email) change, the old username retired."""

    account: str
    customer: str
    old_username: str
    new_username: str
    old_email: str | None
    new_email: str | None


class Remediation:
    """Plans and applies an incident's remediation."""

    def __init__(self, incidents: Incidents, suspension: AgentSuspension | None = None) -> None:
        self.incidents = incidents
        self.store = incidents.store
        self.suspension = suspension

    def plan(self, incident_id: str) -> list[PlannedAction]:
        """Every action of the incident's remediation, applied or not."""
        incident = self.incidents.get(incident_id)
        radius = blast_radius(self.store, incident.scope)
        done = self._applied(incident_id)
        wanted: list[tuple[ActionKind, str, str | None]] = [
            (ActionKind.SUSPEND_AGENT, agent, None) for agent in incident.scope.agents
        ]
        for exposure in radius.customers:
            wanted += [
                (ActionKind.REVERIFY_CONTACT, k, exposure.customer) for k in exposure.contacts
            ]
            wanted += [(ActionKind.RENAME_ACCOUNT, u, exposure.customer) for u in exposure.accounts]
        return [
            PlannedAction(
                kind=kind,
                target=target,
                customer=customer,
                applied=f"{kind.value}:{target}" in done,
            )
            for kind, target, customer in wanted
        ]

    def propose(self, incident_id: str, actor: str) -> list[PlannedAction]:
        """The plan, recorded on the incident's timeline as shown to ``actor``."""
        plan = self.plan(incident_id)
        details = {"actions": [a.key for a in plan], "applied": [a.key for a in plan if a.applied]}
        self.incidents.record(incident_id, "remediation.planned", actor, details)
        return plan

    def apply(self, incident_id: str, actor: str) -> list[PlannedAction]:
        """Apply every automatic action not yet applied; returns those applied now."""
        self.incidents.get(incident_id)
        pending = [a for a in self.plan(incident_id) if a.automatic and not a.applied]
        for action in pending:
            self._apply(incident_id, action, actor)
        return pending

    def _apply(self, incident_id: str, action: PlannedAction, actor: str) -> None:
        reason = f"incident {incident_id}"
        if action.kind is ActionKind.SUSPEND_AGENT:
            outcome = (
                self.suspension.suspend(action.target, reason) if self.suspension else "recorded"
            )
            self.incidents.record(
                incident_id,
                "agent.suspended",
                actor,
                {"agent": action.target, "incident": incident_id, "outcome": outcome},
                event_id=f"{incident_id}/agent.suspended/{action.target}",
            )
        details = {"action": action.key, "customer": action.customer}
        self.incidents.record(
            incident_id,
            "remediation.applied",
            actor,
            details,
            customer=action.customer,
            event_id=f"{incident_id}/remediation.applied/{action.key}",
        )
        now = to_micros(self.incidents.clock())
        with connect(self.store.engine) as conn:
            if action.kind is ActionKind.REVERIFY_CONTACT:
                _mark_contact(conn, action, incident_id, now)
            conn.execute(
                insert(t.incident_remediations).values(
                    incident=incident_id, action=action.key, applied_us=now
                )
            )
            conn.commit()

    def rename(
        self,
        incident_id: str,
        account_id: str,
        *,
        username: str,
        email: str | None,
        actor: str,
    ) -> Rename:
        """Rename an account at its customer's request and retire the old username."""
        self.incidents.get(incident_id)
        account = self.store_account(account_id)
        if account["username"] == username and self._renamed(account_id, incident_id):
            return _rename_of(account, account["username"], account["email"], email)  # already done
        decision = check_registration(self.store, username)
        if not decision.allowed:
            raise InvalidScope(f"{username!r}: {decision.reason}")
        if username_keys(username) & username_keys(account["username"]):
            raise InvalidScope(f"{username!r} is the same name as {account['username']!r}")
        rename = _rename_of(account, username, account["email"], email)
        self.incidents.record(
            incident_id,
            "account.renamed",
            actor,
            _rename_details(rename),
            customer=rename.customer,
        )
        self._store_rename(incident_id, rename)
        return rename

    def store_account(self, account_id: str) -> dict[str, Any]:
        """The account's current directory row."""
        a = t.accounts
        with connect(self.store.engine) as conn:
            row = conn.execute(select(a).where(a.c.id == account_id)).mappings().first()
        if row is None:
            raise UnknownAccount(account_id)
        return dict(row)

    def _store_rename(self, incident_id: str, rename: Rename) -> None:
        now = to_micros(self.incidents.clock())
        values = {"username": rename.new_username, "time_us": now}
        if rename.new_email is not None:
            values["email"] = rename.new_email
        with connect(self.store.engine) as conn:
            conn.execute(update(t.accounts).where(t.accounts.c.id == rename.account).values(values))
            conn.execute(
                insert(t.account_renames).values(
                    **_rename_details(rename), incident=incident_id, time_us=now
                )
            )
            _retire(conn, rename, incident_id, now)
            conn.commit()

    def _renamed(self, account_id: str, incident_id: str) -> bool:
        r = t.account_renames
        query = select(r.c.id).where(r.c.account == account_id, r.c.incident == incident_id)
        with connect(self.store.engine) as conn:
            return conn.execute(query).first() is not None

    def _applied(self, incident_id: str) -> set[str]:
        done = t.incident_remediations
        query = select(done.c.action).where(done.c.incident == incident_id)
        with connect(self.store.engine) as conn:
            applied = {row[0] for row in conn.execute(query)}
            renamed = select(t.account_renames.c.account).where(
                t.account_renames.c.incident == incident_id
            )
            applied |= {
                f"{ActionKind.RENAME_ACCOUNT.value}:{row[0]}" for row in conn.execute(renamed)
            }
        return applied


def _mark_contact(conn: Connection, action: PlannedAction, incident_id: str, now: int) -> None:
    c = t.contact_reverifications
    if conn.execute(select(c.c.contact).where(c.c.contact == action.target)).first() is None:
        conn.execute(
            insert(c).values(
                contact=action.target,
                customer=action.customer or "",
                incident=incident_id,
                marked_us=now,
            )
        )


def _retire(conn: Connection, rename: Rename, incident_id: str, now: int) -> None:
    r = t.retired_usernames
    for key in sorted(username_keys(rename.old_username)):
        if conn.execute(select(r.c.key).where(r.c.key == key)).first() is not None:
            continue  # already retired (an earlier rename, or a confusable name)
        conn.execute(
            insert(r).values(
                key=key,
                username=rename.old_username,
                account=rename.account,
                customer=rename.customer,
                incident=incident_id,
                retired_us=now,
            )
        )


def _rename_of(
    account: dict[str, Any], username: str, old_email: str | None, email: str | None
) -> Rename:
    return Rename(
        account=account["id"],
        customer=account["customer"],
        old_username=account["username"],
        new_username=username,
        old_email=old_email,
        new_email=email,
    )


def _rename_details(rename: Rename) -> dict[str, Any]:
    return {
        "account": rename.account,
        "customer": rename.customer,
        "old_username": rename.old_username,
        "new_username": rename.new_username,
        "old_email": rename.old_email,
        "new_email": rename.new_email,
    }
