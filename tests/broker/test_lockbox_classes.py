"""The lockbox opens a government customer's contacts to a tier-1 agent only with a grant
the customer approved *for its contacts*: a customer-approved grant of other field
classes (billing, account) leaves them closed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.broker.conftest import ANN_EMAIL, ANN_PHONE, accesses, principal
from vigile.broker import AccessDenied, Broker
from vigile.broker.operations import approve_as_customer
from vigile.store import Store

SUPPORT = "customer_initiated_support"
LOCKBOX = ("tier1-government-contacts-need-customer-approval",)
A2 = principal("a-2")  # tier 1; T-gov is open and assigned to a-2


def _approved_by_the_customer(broker: Broker, *classes: str) -> str:
    grant = broker.request_grant(
        A2, "c-gov", classes=classes, duration=timedelta(minutes=30), reason=SUPPORT, ticket="T-gov"
    )
    return approve_as_customer(broker, "c-gov", grant.id).id


def _reveal(broker: Broker, field: str) -> object:
    shown = broker.reveal(
        A2, "c-gov", object_id="k-gov", field=field, ticket="T-gov", reason=SUPPORT
    )
    return shown.body["value"]


@pytest.mark.parametrize("classes", [("billing",), ("account",), ("billing", "account")])
def test_a_customer_approved_grant_of_other_classes_keeps_the_contacts_closed(
    broker: Broker, store: Store, classes: tuple[str, ...]
) -> None:
    _approved_by_the_customer(broker, *classes)
    with pytest.raises(AccessDenied) as email:
        _reveal(broker, "contact.email")
    with pytest.raises(AccessDenied) as listed:
        broker.view_list(A2, "c-gov", "contacts", ticket="T-gov", reason=SUPPORT)
    assert email.value.policies == listed.value.policies == LOCKBOX
    recorded = accesses(store)
    assert [row["outcome"] for row in recorded[-2:]] == ["denied", "denied"]
    assert ANN_EMAIL not in repr(recorded)


def test_a_customer_approved_contact_grant_opens_them(broker: Broker) -> None:
    _approved_by_the_customer(broker, "contact")
    assert _reveal(broker, "contact.email") == ANN_EMAIL
    assert _reveal(broker, "contact.phone") == ANN_PHONE
    masked = broker.view_list(A2, "c-gov", "contacts", ticket="T-gov", reason=SUPPORT)
    assert masked.body[0]["email"] == "a***@ministry.example"


def test_a_contact_grant_beside_a_billing_grant_opens_them(broker: Broker) -> None:
    _approved_by_the_customer(broker, "billing")
    _approved_by_the_customer(broker, "contact")
    assert _reveal(broker, "contact.email") == ANN_EMAIL
