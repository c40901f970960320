"""A masked value never leaks: over random contact data, neither a masked view, nor a
denial, nor a log line, nor the recorded access carries the clear email or phone."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.broker.conftest import accesses, principal
from vigile.broker import AccessDenied, Broker
from vigile.model import Contact
from vigile.record import Recorder
from vigile.store import Store

_local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=2, max_size=16)
_domain = st.from_regex(r"[a-z0-9]{2,12}\.(example|test)", fullmatch=True)
emails = st.builds(lambda local, domain: f"{local}@{domain}", _local, _domain)
phones = st.builds(
    lambda cc, groups: " ".join([f"+{cc}", *groups]),
    st.integers(1, 999),
    st.lists(st.from_regex(r"[0-9]{3,4}", fullmatch=True), min_size=2, max_size=4),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(email=emails, phone=phones, index=st.integers(0, 10**6))
def test_no_masked_value_leaks(
    broker: Broker,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    email: str,
    phone: str,
    index: int,
) -> None:
    contact = f"k-fuzz-{index}"
    Recorder(store).record([Contact(id=contact, customer="c-1", email=email, phone=phone)])
    agent = principal("a-1")
    with caplog.at_level(logging.DEBUG):
        shown = broker.view_list(
            agent, "c-1", "contacts", ticket="T-1", reason="customer_initiated_support"
        )
        with pytest.raises(AccessDenied) as denied:
            broker.reveal(
                agent, "c-1", object_id=contact, field="contact.email", ticket=None, reason="none"
            )
    visible = [repr(shown.body), str(denied.value), caplog.text, repr(accesses(store))]
    for text in visible:
        assert email not in text
        assert phone not in text
