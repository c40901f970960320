"""The alert book: alerts stored, deduplicated per agent, with an analyst's status.

One alert stays open per agent: a new detection of the same agent updates it (highest
severity, widest span, union of evidence) instead of raising another. Once an analyst
closes an alert, detection only raises a new one for that agent on evidence later than
the closed alert; after a benign verdict, also only when the risk is higher than the one
the analyst judged benign (their feedback sets the agent's bar). Every change is appended
to ``detect_alert_history``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from vigile.detect.alerts import Alert, AlertStatus
from vigile.detect.errors import AlertNotFound
from vigile.detect.risk import Severity
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["AlertBook", "now_us"]


def now_us() -> int:
    """The current time in microseconds since the epoch."""
    return time.time_ns() // 1_000


def _alert(row: Any) -> Alert:
    return Alert(
        id=row["id"],
        agent=row["agent"],
        severity=Severity(row["severity"]),
        score=row["score"],
        first_us=row["first_us"],
        last_us=row["last_us"],
        reasons=tuple(orjson.loads(row["reasons"])),
        evidence=tuple(orjson.loads(row["evidence"])),
        status=AlertStatus(row["status"]),
    )


def _merge(old: Alert, new: Alert) -> Alert:
    evidence = dict.fromkeys((*old.evidence, *new.evidence))
    severity = max(old.severity, new.severity, key=lambda s: s.rank)
    return replace(
        old,
        severity=severity,
        score=max(old.score, new.score),
        first_us=min(old.first_us, new.first_us),
        last_us=max(old.last_us, new.last_us),
        reasons=new.reasons if new.score >= old.score else old.reasons,
        evidence=tuple(evidence),
    )


class AlertBook:
    """Alerts in the store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def alerts(self, *, include_closed: bool = False) -> list[Alert]:
        """Stored alerts, most severe first."""
        query = select(t.detect_alerts).order_by(t.detect_alerts.c.id)
        with connect(self.engine) as conn:
            found = [_alert(row) for row in conn.execute(query).mappings()]
        kept = [a for a in found if include_closed or not a.status.closed]
        return sorted(kept, key=lambda a: (-a.severity.rank, -a.score, a.agent))

    def record(self, alerts: Iterable[Alert], *, actor: str = "detect") -> list[Alert]:
        """Store new alerts and update open ones; returns the alerts as stored (closed
        agents' old evidence suppressed)."""
        kept = []
        with connect(self.engine) as conn, conn.begin():
            for alert in alerts:
                stored = self._record_one(conn, alert, actor)
                if stored is not None:
                    kept.append(stored)
        return kept

    def _record_one(self, conn: Connection, alert: Alert, actor: str) -> Alert | None:
        latest = self._latest(conn, alert.agent)
        if latest is not None and not latest.status.closed:
            merged = _merge(latest, alert)
            if merged != latest:
                self._write(conn, merged, actor, "new evidence")
            return merged
        if latest is not None and not _raises_again(latest, alert):
            return None
        return self._write(conn, replace(alert, status=AlertStatus.OPEN, id=None), actor, None)

    def set_status(
        self, alert_id: int, status: AlertStatus, *, actor: str, note: str | None = None
    ) -> Alert:
        """Record an analyst's verdict or acknowledgement."""
        with connect(self.engine) as conn, conn.begin():
            row = (
                conn.execute(select(t.detect_alerts).where(t.detect_alerts.c.id == alert_id))
                .mappings()
                .first()
            )
            if row is None:
                raise AlertNotFound(f"no alert with id {alert_id}")
            return self._write(conn, replace(_alert(row), status=status), actor, note)

    def _latest(self, conn: Connection, agent: str) -> Alert | None:
        row = (
            conn.execute(
                select(t.detect_alerts)
                .where(t.detect_alerts.c.agent == agent)
                .order_by(t.detect_alerts.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return None if row is None else _alert(row)

    def _write(self, conn: Connection, alert: Alert, actor: str, note: str | None) -> Alert:
        moment = now_us()
        values = {
            "agent": alert.agent,
            "severity": alert.severity.value,
            "score": alert.score,
            "first_us": alert.first_us,
            "last_us": alert.last_us,
            "reasons": orjson.dumps(list(alert.reasons)).decode(),
            "evidence": orjson.dumps(list(alert.evidence)).decode(),
            "status": alert.status.value,
            "updated_us": moment,
        }
        if alert.id is None:
            result = conn.execute(insert(t.detect_alerts).values(created_us=moment, **values))
            key = result.inserted_primary_key
            assert key is not None
            alert = replace(alert, id=int(key[0]))
        else:
            conn.execute(
                update(t.detect_alerts).where(t.detect_alerts.c.id == alert.id).values(**values)
            )
        conn.execute(
            insert(t.detect_alert_history).values(
                alert_id=alert.id, time_us=moment, status=alert.status.value,
                severity=alert.severity.value, score=alert.score, actor=actor, note=note,
            )
        )  # fmt: skip
        return alert

    # -- streaming watermark ----------------------------------------------------------

    def watermark(self, name: str) -> int:
        """The last ``seq`` the detector ``name`` processed (-1: none yet)."""
        with connect(self.engine) as conn:
            value = conn.execute(
                select(t.detect_watermarks.c.seq).where(t.detect_watermarks.c.name == name)
            ).scalar()
        return -1 if value is None else int(value)

    def set_watermark(self, name: str, seq: int) -> None:
        """Remember that the detector ``name`` has processed every event up to ``seq``."""
        table = t.detect_watermarks
        with connect(self.engine) as conn, conn.begin():
            done = conn.execute(
                update(table).where(table.c.name == name).values(seq=seq, updated_us=now_us())
            )
            if done.rowcount == 0:
                conn.execute(insert(table).values(name=name, seq=seq, updated_us=now_us()))


def _raises_again(closed: Alert, new: Alert) -> bool:
    if new.last_us <= closed.last_us:
        return False
    return closed.status is not AlertStatus.BENIGN or new.score > closed.score
