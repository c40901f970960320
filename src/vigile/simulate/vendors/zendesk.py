"""Simulated ticket steps as Zendesk Ticket Audits (``GET /api/v2/ticket_audits``).

The inverse of :mod:`vigile.sources.zendesk`'s mapping, one audit per native step, as
Zendesk writes one audit per update of a ticket:

- ``opened``: the creating audit, ``Create`` events of ``status`` (``new``),
  ``requester_id`` (the organisation's end user), ``organization_id`` (the customer's
  organisation) and ``subject``; authored by the requester, through the web form;
- ``assigned``: a ``Change`` of ``assignee_id`` (from the previous assignee), and on the
  first assignment a ``Change`` of ``status`` from ``new`` to ``open``; authored by the
  assignee;
- ``closed``: a ``Change`` of ``status`` to ``solved``; authored by the assignee.

The native ``category`` has no field here (Zendesk's ``type`` is question, incident,
problem or task, not a category): it is written as a tag, which the adapter does not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vigile.simulate.vendors.ids import VendorIds

__all__ = ["ZendeskTickets"]


@dataclass(slots=True)
class ZendeskTickets:
    """Audits of the native ticket steps, in order: remembers each ticket's assignee and
    status, as a later audit's ``previous_value`` needs them."""

    ids: VendorIds
    assignee: dict[str, int] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)

    def audit(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """The audit of one native ``ticket`` record, or None for a step of a ticket
        never opened in the log (it cannot be placed: no organisation)."""
        ticket = record["ticket"]
        step = record["event"]
        if step != "opened" and ticket not in self.status:
            return None
        number = self.ids.ticket_number(ticket)
        audit_id = self.ids.next_audit()
        events: list[dict[str, Any]] = []

        def event(kind: str, name: str, value: object, previous: object = None) -> None:
            item: dict[str, Any] = {"id": audit_id * 10 + len(events) + 1, "type": kind,
                                    "field_name": name, "value": value}  # fmt: skip
            if kind == "Change":
                item["previous_value"] = previous
            events.append(item)

        if step == "opened":
            customer = record["customer"]
            requester = self.ids.zendesk_requester(customer)
            author = requester
            event("Create", "subject", f"Support request {number}")
            event("Create", "status", "new")
            event("Create", "requester_id", str(requester))
            event("Create", "organization_id", str(self.ids.zendesk_org(customer)))
            if record.get("category"):
                event("Create", "tags", [record["category"]])
            self.status[ticket] = "new"
        elif step == "assigned":
            user = self.ids.zendesk_user(record["agent"])
            author = user
            previous = self.assignee.get(ticket)
            event("Change", "assignee_id", str(user), None if previous is None else str(previous))
            if self.status[ticket] == "new":
                event("Change", "status", "open", "new")
                self.status[ticket] = "open"
            self.assignee[ticket] = user
        else:  # closed
            author = self.assignee.get(ticket, -1)
            event("Change", "status", "solved", self.status[ticket])
            self.status[ticket] = "solved"
        return {
            "id": audit_id,
            "ticket_id": number,
            "created_at": record["time"],
            "author_id": author,
            "metadata": {"system": {}, "custom": {}},
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "events": events,
        }
