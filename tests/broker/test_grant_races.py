"""Grant transitions decided by two broker processes at once, or after the customer
changed: the ledger never claims an approval that did not take effect, and lockbox
follows the customer's tier at approval."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.broker.conftest import audits, principal
from vigile.broker import Broker, Forbidden, GrantConflict, GrantStatus
from vigile.broker.operations import approve_as_customer, approve_grant
from vigile.model import Customer
from vigile.record import Recorder
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

A1, SUP = principal("a-1"), principal("sup-1", "supervisor")


def test_an_approval_that_loses_the_race_is_voided_in_the_ledger(
    broker: Broker, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant = broker.request_grant(
        A1,
        "c-1",
        classes=("contact",),
        duration=timedelta(hours=1),
        reason="customer_initiated_support",
        ticket=None,
    )
    audit = broker.grants._audit

    def another_process_denies_first(action: str, *args: Any) -> None:
        audit(action, *args)
        if action == "grant.approved":  # between the record and the update
            with connect(store.engine) as conn:
                conn.execute(
                    update(t.broker_grants)
                    .where(t.broker_grants.c.id == grant.id)
                    .values(status=GrantStatus.DENIED.value)
                )
                conn.commit()

    monkeypatch.setattr(broker.grants, "_audit", another_process_denies_first)
    with pytest.raises(GrantConflict):
        approve_grant(broker, SUP, grant.id)
    trail = [row["action"] for row in audits(store) if row["action"].startswith("grant.")]
    assert trail == ["grant.requested", "grant.approved", "grant.approval_void"]
    assert broker.grants.get(grant.id).status is GrantStatus.DENIED


def test_lockbox_is_decided_at_approval_by_the_customers_tier_then(
    broker: Broker, store: Store
) -> None:
    grant = broker.request_grant(
        A1,
        "c-2",
        classes=("contact",),
        duration=timedelta(hours=1),
        reason="customer_initiated_support",
        ticket="T-2",
    )
    assert not grant.lockbox  # an smb customer when asked
    Recorder(store).record([Customer(id="c-2", name="Second Shop", tier="government")])
    with pytest.raises(Forbidden, match="under lockbox"):
        approve_grant(broker, SUP, grant.id)
    approved = approve_as_customer(broker, "c-2", grant.id)
    assert approved.customer_approved
