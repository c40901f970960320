"""The alert book on both engines: dedup per agent, analyst status, feedback, history,
watermarks, containment requests, and append-only history."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from vigile.detect.alerts import Alert, AlertStatus
from vigile.detect.book import AlertBook
from vigile.detect.containment import ContainmentPort, RecordedContainment
from vigile.detect.errors import AlertNotFound
from vigile.detect.risk import Severity
from vigile.store import Store

HOUR = 3_600_000_000


def _alert(agent: str, score: float, first: int, last: int, *evidence: str) -> Alert:
    severity = Severity.HIGH if score >= 40 else Severity.LOW
    return Alert(
        agent=agent, severity=severity, score=score, first_us=first * HOUR, last_us=last * HOUR,
        reasons=(f"risk {score}",), evidence=evidence,
    )  # fmt: skip


def test_one_open_alert_per_agent_grows_with_evidence(store: Store) -> None:
    book = AlertBook(store.engine)
    (first,) = book.record([_alert("a-1", 12, 1, 2, "e-1")])
    (second,) = book.record([_alert("a-1", 45, 3, 5, "e-2")])
    assert second.id == first.id
    assert second.severity is Severity.HIGH
    assert (second.first_us, second.last_us) == (HOUR, 5 * HOUR)
    assert second.evidence == ("e-1", "e-2")
    assert [a.id for a in book.alerts()] == [first.id]


def test_a_benign_verdict_raises_the_agents_bar(store: Store) -> None:
    book = AlertBook(store.engine)
    (alert,) = book.record([_alert("a-1", 45, 1, 2)])
    assert alert.id is not None
    book.set_status(alert.id, AlertStatus.BENIGN, actor="ann", note="travel")
    assert book.record([_alert("a-1", 45, 1, 2)]) == []  # the same evidence again
    assert book.record([_alert("a-1", 30, 3, 4)]) == []  # later, but lower
    (again,) = book.record([_alert("a-1", 80, 5, 6)])
    assert again.id != alert.id
    assert again.status is AlertStatus.OPEN
    assert [a.id for a in book.alerts()] == [again.id]
    assert len(book.alerts(include_closed=True)) == 2


def test_unknown_alert(store: Store) -> None:
    with pytest.raises(AlertNotFound):
        AlertBook(store.engine).set_status(99, AlertStatus.ACKNOWLEDGED, actor="ann")


def test_watermark_and_containment(store: Store) -> None:
    book = AlertBook(store.engine)
    assert book.watermark("default") == -1
    book.set_watermark("default", 41)
    book.set_watermark("default", 42)
    assert book.watermark("default") == 42
    port = RecordedContainment(store.engine)
    assert isinstance(port, ContainmentPort)
    assert port.suspend("a-1", "critical risk") == "requested"
    assert [(r.agent, r.outcome) for r in port.requests()] == [("a-1", "requested")]


@pytest.mark.parametrize("table", ["detect_alert_history", "detect_containment"])
def test_history_is_append_only(store: Store, table: str) -> None:
    book = AlertBook(store.engine)
    book.record([_alert("a-1", 12, 1, 2)])
    RecordedContainment(store.engine).suspend("a-1", "test")
    with store.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(f"DELETE FROM {table}"))
