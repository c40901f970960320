"""AI agents watched like people: the prompt injection caught at high within minutes,
contained through the broker, honest AI agents left alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tests.detect.conftest import Stored
from vigile.broker import Broker
from vigile.detect.risk import Severity
from vigile.detect.stream import StreamingDetector
from vigile.model.times import parse_rfc3339, to_micros
from vigile.store import Store


def test_the_prompt_injection_is_caught_and_contained(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    data = stored("prompt-injection")
    [attack] = data.truth["attacks"]
    victim = attack["agent"]
    start = to_micros(parse_rfc3339(attack["window"]["start"]))
    # A private copy of the store, signed with the original's ledger key (the broker writes).
    copy = data.settings(tmp_path)
    settings = replace(copy, ledger_key=str(data.db.parent / "ledger.key"))
    with Store.open(settings) as store:
        broker = Broker(store, settings)
        detector = StreamingDetector(
            store.engine, batch_events=5_000, containment=broker, contain_at=Severity.HIGH
        )
        high: dict[str, int | None] = {}
        ai_seen: dict[str, float] = {}
        contained: list[str] = []
        try:
            for step in detector.run():
                contained += step.contained
                for alert in step.alerts:
                    if alert.agent.startswith("ai-"):
                        ai_seen[alert.agent] = max(ai_seen.get(alert.agent, 0.0), alert.score)
                    if alert.severity.rank >= Severity.HIGH.rank and alert.agent not in high:
                        high[alert.agent] = detector.crossing(alert.agent, Severity.HIGH)
        finally:
            detector.close()
        assert list(high) == [victim]  # no honest agent, human or AI, at high
        crossed = high[victim]
        assert crossed is not None
        assert 0 <= crossed - start <= 15 * 60 * 1_000_000  # within minutes
        assert contained == [victim]
        assert broker.containment.suspension_of(victim) is not None
        honest_ai = {"ai-0000", "ai-0001", "ai-0002"} - {victim}
        assert all(broker.containment.suspension_of(a) is None for a in honest_ai)
