"""The broker service end to end over a real store: decisions, masking, recording
before answering, grants and lockbox, velocity, containment, concurrency."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.broker.conftest import (
    ANN_EMAIL,
    ANN_PHONE,
    BOB_EMAIL,
    Captured,
    Clock,
    accesses,
    audits,
    ledger_size,
    principal,
)
from vigile.broker import (
    AccessDenied,
    Broker,
    Forbidden,
    GrantConflict,
    GrantStatus,
    InvalidBrokerRequest,
    NotFound,
    Notifier,
    Unauthenticated,
)
from vigile.broker.operations import (
    approve_as_customer,
    approve_grant,
    deny_grant,
    resume_agent,
    revoke_grant,
    suspend_agent,
)
from vigile.errors import StoreError
from vigile.settings import Settings
from vigile.store import Store

A1, A2, SUP, ANALYST = (
    principal("a-1"),
    principal("a-2"),
    principal("sup-1", "supervisor"),
    principal("sup-1", "analyst"),
)
SUPPORT = "customer_initiated_support"


def test_contacts_are_masked_with_an_assigned_ticket_and_the_access_recorded(
    broker: Broker, store: Store
) -> None:
    shown = broker.view_list(A1, "c-1", "contacts", ticket="T-1", reason=SUPPORT)
    assert shown.body[0]["email"] == "b***@shop.example"
    assert shown.body[0]["phone"] == "+33 *** *** *** *** 6789"
    assert BOB_EMAIL not in repr(shown.body)
    [access] = accesses(store)
    assert (access["action"], access["outcome"], access["ticket"]) == (
        "contact.view",
        "allowed",
        "T-1",
    )
    assert (
        access["masked_fields"] == '["contact.email","contact.phone"]'
        or "contact.email" in access["masked_fields"]
    )
    assert ledger_size(store) >= 1


def test_without_justification_the_request_is_denied_and_recorded(
    broker: Broker, store: Store
) -> None:
    with pytest.raises(AccessDenied) as denied:
        broker.view_customer(A1, "c-1", ticket=None, reason="none")
    assert "ticket" in denied.value.reason
    [access] = accesses(store)
    assert (access["outcome"], access["fields"]) == ("denied", "[]")
    assert access["deny_reason"] == denied.value.reason


def test_a_ticket_of_another_customer_does_not_justify(broker: Broker) -> None:
    with pytest.raises(AccessDenied):
        broker.view_customer(A1, "c-gov", ticket="T-1", reason=SUPPORT)


def test_reveal_gives_the_clear_value_with_an_assigned_ticket(broker: Broker, store: Store) -> None:
    shown = broker.reveal(
        A1, "c-1", object_id="k-1", field="contact.email", ticket="T-1", reason=SUPPORT
    )
    assert shown.body == {"object": "k-1", "field": "contact.email", "value": BOB_EMAIL}
    access = accesses(store)[-1]
    assert (access["action"], access["fields"], access["object"]) == (
        "contact.reveal",
        '["contact.email"]',
        "k-1",
    )


def test_an_object_of_another_customer_is_not_found_and_recorded(
    broker: Broker, store: Store
) -> None:
    with pytest.raises(NotFound):
        broker.reveal(
            A1, "c-1", object_id="k-gov", field="contact.email", ticket="T-1", reason=SUPPORT
        )
    assert accesses(store)[-1]["outcome"] == "denied"


def test_the_ticket_is_judged_as_of_the_moment_of_the_request(broker: Broker, clock: Clock) -> None:
    broker.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)
    clock.advance(hours=3)  # T-1 closed two hours after the clock's start
    with pytest.raises(AccessDenied):
        broker.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)


def test_export_is_forbidden_and_names_its_policy(broker: Broker, store: Store) -> None:
    with pytest.raises(AccessDenied) as denied:
        broker.export(A1, "c-1", ticket="T-1", reason=SUPPORT)
    assert denied.value.policies == ("export-forbidden",)
    assert BOB_EMAIL not in str(denied.value)


def test_unknown_customer_is_not_found_and_recorded(broker: Broker, store: Store) -> None:
    with pytest.raises(NotFound):
        broker.view_customer(A1, "c-nope", ticket=None, reason="none")
    assert accesses(store)[-1]["deny_reason"] == "unknown customer"


def test_search_is_bounded_literal_and_recorded(broker: Broker, store: Store) -> None:
    assert [r["id"] for r in broker.search(A1, "shop")] == ["c-1", "c-2", "c-3"]
    assert broker.search(A1, "%%%") == []
    assert broker.search(A1, "___") == []
    with pytest.raises(InvalidBrokerRequest):
        broker.search(A1, "ex")
    recorded = accesses(store)
    assert [a["outcome"] for a in recorded] == ["allowed", "allowed", "allowed", "denied"]
    assert recorded[0]["query"] == "shop"


def test_grant_lifecycle(broker: Broker, store: Store, clock: Clock, captured: Captured) -> None:
    def reveal() -> object:
        return broker.reveal(
            A1,
            "c-1",
            object_id="u-1",
            field="account.email",
            ticket=None,
            reason="agent_initiated_review",
        )

    grant = broker.request_grant(
        A1,
        "c-1",
        classes=("account",),
        duration=timedelta(hours=1),
        reason="agent_initiated_review",
        ticket=None,
    )
    assert grant.status is GrantStatus.PENDING
    assert [n.grant for n in captured.notices] == [grant.id]
    with pytest.raises(AccessDenied):
        reveal()
    with pytest.raises(Forbidden):
        approve_grant(broker, A1, grant.id)  # no supervisor role
    clock.advance(minutes=30)
    approved = approve_grant(broker, SUP, grant.id)
    assert approved.starts == clock.now  # the clock starts at approval
    assert reveal().body["value"] == "admin@shop.example"  # type: ignore[attr-defined]
    clock.advance(minutes=61)
    with pytest.raises(AccessDenied):
        reveal()
    assert [a["subject"] for a in audits(store, "grant.expired")] == [grant.id]
    assert [a["action"] for a in audits(store) if a["subject"] == grant.id] == [
        "grant.requested",
        "grant.approved",
        "grant.expired",
    ]
    with pytest.raises(GrantConflict):
        revoke_grant(broker, SUP, grant.id)


def test_a_revoked_grant_is_never_honoured(broker: Broker, store: Store) -> None:
    grant = broker.request_grant(
        A1, "c-1", classes=("contact",), duration=timedelta(hours=1), reason=SUPPORT, ticket=None
    )
    approve_grant(broker, SUP, grant.id)
    broker.reveal(A1, "c-1", object_id="k-1", field="contact.phone", ticket=None, reason=SUPPORT)
    revoke_grant(broker, A1, grant.id)
    with pytest.raises(AccessDenied):
        broker.reveal(
            A1, "c-1", object_id="k-1", field="contact.phone", ticket=None, reason=SUPPORT
        )
    assert len(broker.grants.history(agent="a-1")) == 1


def test_containment_revokes_the_agents_grants_for_good(broker: Broker, store: Store) -> None:
    approved = broker.request_grant(
        A1, "c-1", classes=("contact",), duration=timedelta(hours=1), reason=SUPPORT, ticket=None
    )
    approve_grant(broker, SUP, approved.id)
    waiting = broker.request_grant(
        A1, "c-2", classes=("contact",), duration=timedelta(hours=1), reason=SUPPORT, ticket=None
    )
    assert broker.suspend("a-1", "harvesting billing contacts") == "suspended"
    assert broker.suspend("a-1", "again") == "already suspended"
    statuses = {g.id: g.status for g in broker.grants.history(agent="a-1")}
    assert statuses == {approved.id: GrantStatus.REVOKED, waiting.id: GrantStatus.REVOKED}
    assert resume_agent(broker, principal("an-1", "analyst"), "a-1", "false alarm")
    with pytest.raises(AccessDenied):  # resumed, but the grant it had does not come back
        broker.reveal(
            A1, "c-1", object_id="k-1", field="contact.phone", ticket=None, reason=SUPPORT
        )


def test_unattended_requests_expire(broker: Broker, clock: Clock, store: Store) -> None:
    grant = broker.request_grant(
        A1, "c-1", classes=("contact",), duration=timedelta(hours=1), reason=SUPPORT, ticket=None
    )
    clock.advance(hours=5)
    with pytest.raises(GrantConflict):
        approve_grant(broker, SUP, grant.id)
    assert broker.grants.get(grant.id).status is GrantStatus.EXPIRED


def test_denied_grant(broker: Broker, store: Store) -> None:
    grant = broker.request_grant(
        A1, "c-1", classes=("contact",), duration=timedelta(hours=1), reason=SUPPORT, ticket=None
    )
    assert deny_grant(broker, SUP, grant.id).status is GrantStatus.DENIED
    assert audits(store, "grant.denied")[0]["actor"] == "sup-1"


@pytest.mark.parametrize(
    ("classes", "hours", "reason"),
    [
        ((), 1, SUPPORT),
        (("secrets",), 1, SUPPORT),
        (("contact",), 9, SUPPORT),
        (("contact",), 1, "none"),
    ],
)
def test_invalid_grant_requests(
    broker: Broker, classes: tuple[str, ...], hours: float, reason: str
) -> None:
    with pytest.raises(InvalidBrokerRequest):
        broker.request_grant(
            A1, "c-1", classes=classes, duration=timedelta(hours=hours), reason=reason, ticket=None
        )


def test_lockbox_tier1_government_contacts_need_the_customers_approval(
    broker: Broker, store: Store
) -> None:
    with pytest.raises(AccessDenied) as denied:
        broker.view_list(A2, "c-gov", "contacts", ticket="T-gov", reason=SUPPORT)
    assert denied.value.policies == ("tier1-government-contacts-need-customer-approval",)
    grant = broker.request_grant(
        A2,
        "c-gov",
        classes=("contact",),
        duration=timedelta(hours=1),
        reason=SUPPORT,
        ticket="T-gov",
    )
    assert grant.lockbox
    with pytest.raises(Forbidden, match="lockbox"):
        approve_grant(broker, SUP, grant.id)
    with pytest.raises(NotFound):
        approve_as_customer(broker, "c-1", grant.id)
    approve_as_customer(broker, "c-gov", grant.id)
    shown = broker.reveal(
        A2, "c-gov", object_id="k-gov", field="contact.phone", ticket="T-gov", reason=SUPPORT
    )
    assert shown.body["value"] == ANN_PHONE
    masked = broker.view_list(A2, "c-gov", "contacts", ticket="T-gov", reason=SUPPORT)
    assert masked.body[0]["email"] == "a***@ministry.example"
    assert ANN_EMAIL not in repr(masked.body)


def test_velocity_denies_records_a_breach_and_can_suspend(
    store: Store, broker_settings: Settings, clock: Clock
) -> None:
    from tests.broker.conftest import DIRECTORY  # noqa: PLC0415
    from vigile.record import Recorder  # noqa: PLC0415

    Recorder(store).record(DIRECTORY)
    limited = dataclasses.replace(
        broker_settings, broker_customers_per_hour=2, broker_velocity_suspend=1
    )
    broker = Broker(store, limited, clock=clock, notifier=Notifier([]))
    try:
        broker.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)
        broker.view_customer(A1, "c-2", ticket="T-2", reason=SUPPORT)
        broker.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)  # same customer: fine
        with pytest.raises(AccessDenied) as denied:
            broker.view_customer(A1, "c-3", ticket="T-3", reason=SUPPORT)
        assert "velocity-limit" in denied.value.policies
        [breach] = audits(store, "velocity.breach")
        assert (breach["subject"], breach["details"]["limit"]) == ("a-1", "customers")
        assert broker.containment.suspension_of("a-1") is not None
        # A new broker (a restart) counts from the store, not from zero.
        resume_agent(broker, ANALYST, "a-1", "reviewed")
        again = Broker(store, limited, clock=clock, notifier=Notifier([]))
        with pytest.raises(AccessDenied):
            again.view_customer(A1, "c-3", ticket="T-3", reason=SUPPORT)
        again.close()
    finally:
        broker.close()


def test_suspension_revokes_sessions_and_denies_until_resumed(broker: Broker, store: Store) -> None:
    from vigile.broker import LocalTokens  # noqa: PLC0415

    token = LocalTokens(broker.settings).issue(
        "a-1", roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC)
    )
    agent = broker.authenticate(token, ip="198.51.100.7")
    with pytest.raises(Forbidden):
        suspend_agent(broker, A1, "a-1", "not an analyst")
    assert suspend_agent(broker, ANALYST, "a-1", "alert 17") == "suspended"
    with pytest.raises(Unauthenticated, match="revoked"):
        broker.authenticate(token, ip="198.51.100.7")
    with pytest.raises(AccessDenied) as denied:
        broker.view_customer(agent, "c-1", ticket="T-1", reason=SUPPORT)
    assert denied.value.policies == ("suspended-agent",)
    assert broker.containment.suspend("a-1", "again") == "already suspended"
    assert resume_agent(broker, ANALYST, "a-1", "cleared")
    broker.view_customer(agent, "c-1", ticket="T-1", reason=SUPPORT)
    assert [a["action"] for a in audits(store) if a["subject"] == "a-1"] == [
        "agent.suspended",
        "agent.resumed",
    ]
    assert audits(store, "agent.suspended")[0]["details"]["sessions_revoked"] == 1


def test_sign_ins_are_recorded_once_per_session_and_mfa_is_required(
    broker: Broker, store: Store
) -> None:
    from vigile.broker import LocalTokens  # noqa: PLC0415
    from vigile.store.repository import Store as _  # noqa: F401, PLC0415

    tokens = LocalTokens(broker.settings)
    token = tokens.issue("a-1", roles=frozenset({"agent"}), mfa="webauthn", now=datetime.now(UTC))
    broker.authenticate(token, ip="198.51.100.7")
    broker.authenticate(token, ip="198.51.100.7")
    weak = tokens.issue("a-1", roles=frozenset({"agent"}), mfa=None, now=datetime.now(UTC))
    with pytest.raises(Unauthenticated, match="second factor"):
        broker.authenticate(weak, ip="198.51.100.7")
    events = store.events_of_agent("a-1", broker.clock() - timedelta(days=1), broker.clock())
    outcomes = sorted(e.outcome for e in events if type(e).__name__ == "SignIn")
    assert outcomes == ["failure", "success"]
    with pytest.raises(Unauthenticated):
        broker.authenticate(token[:-2] + "xx", ip="198.51.100.7")


def test_no_access_goes_unrecorded_when_recording_fails(
    broker: Broker, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(records: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(broker.committer.recorder, "record_prepared", fail)
    with pytest.raises(StoreError):
        broker.reveal(
            A1, "c-1", object_id="k-1", field="contact.email", ticket="T-1", reason=SUPPORT
        )
    monkeypatch.undo()
    assert accesses(store) == []


def test_parallel_requests_lose_no_event(broker: Broker, store: Store) -> None:
    def work() -> None:
        for _ in range(20):
            broker.view_list(A1, "c-1", "contacts", ticket="T-1", reason=SUPPORT)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accesses(store)) == 160
    # The tree is extended apart from the requests (on PostgreSQL, by the integrator
    # thread, a moment later): what is stored, integrated, is all of it, once.
    broker.ledger.integrate()
    assert ledger_size(store) == store.counts()["accesses"] + len(_directory_events())
    assert broker.committer.commits < 160  # grouped


def _directory_events() -> list[object]:
    from tests.broker.conftest import DIRECTORY  # noqa: PLC0415
    from vigile.model import TicketEvent  # noqa: PLC0415

    return [r for r in DIRECTORY if isinstance(r, TicketEvent)]


def test_a_grant_that_justifies_an_access_is_recorded_as_used(broker: Broker, store: Store) -> None:
    grant = broker.request_grant(
        A1, "c-1", classes=("contact",), duration=timedelta(hours=1), reason=SUPPORT, ticket=None
    )
    approve_grant(broker, SUP, grant.id)
    shown = broker.reveal(
        A1, "c-1", object_id="k-1", field="contact.phone", ticket=None, reason=SUPPORT
    )
    broker.view_customer(A1, "c-1", ticket="T-1", reason=SUPPORT)  # the ticket suffices
    recorded = accesses(store)
    reveal, use = (a for a in recorded if a["action"] in ("contact.reveal", "grant.use"))
    assert shown.body["value"]
    assert reveal["outcome"] == "allowed"
    assert (use["action"], use["outcome"], use["fields"], use["customer"]) == (
        "grant.use",
        "allowed",
        "[]",
        "c-1",
    )
    assert json.loads(use["extra"])["grant"] == grant.id
    assert json.loads(use["extra"])["access"] == reveal["id"]
    assert [a["action"] for a in recorded].count("grant.use") == 1


def test_a_customer_approved_grant_lifting_the_tier1_forbid_is_recorded_as_used(
    broker: Broker, store: Store
) -> None:
    grant = broker.request_grant(
        A2,
        "c-gov",
        classes=("contact",),
        duration=timedelta(hours=1),
        reason=SUPPORT,
        ticket="T-gov",
    )
    approve_as_customer(broker, "c-gov", grant.id)
    broker.view_list(A2, "c-gov", "contacts", ticket="T-gov", reason=SUPPORT)
    [use] = [a for a in accesses(store) if a["action"] == "grant.use"]
    assert json.loads(use["extra"])["grant"] == grant.id


def test_decisions_reuse_the_parsed_entities(broker: Broker) -> None:
    """The agent as a decision reads it (id, team, tier) is the entity parsed at start:
    no request rebuilds the entity set (a rebuild parses the whole directory again)."""
    for customer, ticket in (("c-1", "T-1"), ("c-2", "T-2"), ("c-3", "T-3")):
        broker.view_list(A1, customer, "contacts", ticket=ticket, reason=SUPPORT)
    with pytest.raises(AccessDenied):
        broker.view_list(A2, "c-gov", "contacts", ticket="T-gov", reason=SUPPORT)
    assert broker.policy.entities.rebuilds == 0
