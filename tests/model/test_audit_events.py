"""``AuditEvent.new``: the one constructor of Vigile's own audit events."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from vigile.model import AuditEvent

NOW = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)


def test_a_new_event_gets_a_fresh_audit_id() -> None:
    first = AuditEvent.new("agent.suspended", actor="ana", time=NOW, subject="a-1")
    second = AuditEvent.new("agent.suspended", actor="ana", time=NOW, subject="a-1")
    assert re.fullmatch(r"audit-[0-9a-f]{32}", first.id)
    assert first.id != second.id
    assert (first.time, first.action, first.actor, first.subject) == (
        NOW,
        "agent.suspended",
        "ana",
        "a-1",
    )
    assert first.customer is None
    assert dict(first.details) == {}


def test_an_id_prefix_or_a_fixed_id() -> None:
    scoped = AuditEvent.new("incident.opened", actor="ana", time=NOW, id_prefix="INC-0001/")
    assert re.fullmatch(r"INC-0001/[0-9a-f]{32}", scoped.id)
    fixed = AuditEvent.new("incident.notified", actor="ana", time=NOW, event_id="INC-0001/n/c-1")
    assert fixed.id == "INC-0001/n/c-1"


def test_the_event_keeps_its_own_copy_of_the_details() -> None:
    details: dict[str, object] = {"grant": "grant-1"}
    event = AuditEvent.new("grant.requested", actor="a-1", time=NOW, details=details)
    details["grant"] = "changed"
    assert event.details == {"grant": "grant-1"}
