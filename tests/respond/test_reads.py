"""Analysts' reads: what response shows a person of customers' data is recorded as those
customers' accesses, justified by the incident; and a notice names the data fields its
message quotes, whatever its templates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.respond.test_notifications import DATA, NOW, SCOPE
from vigile.errors import StoreError
from vigile.ingest import ingest_file
from vigile.model import Access, Action, Reason
from vigile.respond import Incidents, Notifications, Reader, Shown, incident_reads
from vigile.store import Store

SAM = Reader(agent="sam", session="s-sam", ip="192.0.2.7")


def test_one_access_per_customer_shown_with_the_incident_as_justification() -> None:
    shown = [
        Shown(customer="c-1", fields=("customer.tier",)),
        Shown(customer="c-2", fields=("customer.name",), masked_fields=("contact.email",)),
        Shown(customer="c-1", fields=("customer.country",), masked_fields=("customer.tier",)),
        Shown(customer="c-3"),  # nothing of it shown: nothing read
    ]
    reads = incident_reads("INC-0007", SAM, shown, NOW)
    assert [(r.customer, r.fields, r.masked_fields) for r in reads] == [
        ("c-1", ("customer.country", "customer.tier"), ()),  # in clear anywhere: in clear
        ("c-2", ("customer.name",), ("contact.email",)),
    ]
    for read in reads:
        assert (read.agent, read.session, read.ip, read.time) == ("sam", "s-sam", "192.0.2.7", NOW)
        assert (read.action, read.outcome) == (Action.CUSTOMER_VIEW, "allowed")
        assert (read.reason, read.ticket, read.extra) == (
            Reason.AGENT_INITIATED_REVIEW,
            None,
            {"incident": "INC-0007"},
        )
    assert len({r.id for r in reads}) == 2


def test_reads_are_recorded_in_one_transaction_or_not_at_all(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    incidents = Incidents(store, clock=lambda: NOW)
    shown = [Shown(customer=f"c-{i}", fields=("customer.name",)) for i in range(125)]
    calls: list[int] = []
    record = incidents._recorder.record
    monkeypatch.setattr(
        incidents._recorder, "record", lambda records: calls.append(len(records)) or record(records)
    )
    reads = incidents.record_reads("INC-0001", SAM, shown)
    assert calls == [125]
    assert sorted(a.id for a in _stored(store)) == sorted(r.id for r in reads)

    def fail(records: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(incidents._recorder, "record", fail)
    with pytest.raises(StoreError):
        incidents.record_reads("INC-0001", SAM, shown)
    assert len(_stored(store)) == 125


def _stored(store: Store) -> list[Access]:
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    return [e for e in store.events_of_agent("sam", since, until) if isinstance(e, Access)]


def test_a_notice_names_the_fields_its_message_quotes(store: Store, tmp_path: Path) -> None:
    ingest_file(store, DATA)
    incidents = Incidents(store, clock=lambda: NOW)
    incident = incidents.open(title="Agent takeover", scope=SCOPE, actor="ana").id
    notices, _ = Notifications(incidents).render(incident)
    quoted = {n.customer: n.quoted for n in notices}
    # c-00412: Ann Example's contact (name, role, e-mail) and the username paypal.
    assert quoted["c-00412"] == (
        "account.username",
        "contact.email",
        "contact.name",
        "contact.role",
        "customer.name",
    )
    # A template of the user's that quotes the phone and the account's e-mail: named too.
    folder = tmp_path / "templates" / "notification" / "en"
    folder.mkdir(parents=True)
    (folder / "body.txt.j2").write_text(
        "{{ customer_name }}\n{% for c in contacts %}{{ c.phone }}{% endfor %}\n"
        "{% for a in accounts %}{{ a.email }}{% endfor %}\n"
    )
    custom = Store(
        store.engine, replace(store.settings, notify_templates=str(tmp_path / "templates"))
    )
    notices, _ = Notifications(Incidents(custom, clock=lambda: NOW)).render(incident)
    mine = next(n for n in notices if n.customer == "c-00412")
    assert {"contact.phone", "account.email"} <= set(mine.quoted)
