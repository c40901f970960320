"""Streaming detection: the same verdicts as batch, from a watermark, with containment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.detect.conftest import Stored
from vigile.detect.book import AlertBook
from vigile.detect.containment import RecordedContainment
from vigile.detect.risk import Severity
from vigile.detect.stream import StreamingDetector
from vigile.model.times import parse_rfc3339, to_micros
from vigile.store import Store


def test_streaming_flags_the_harvester_within_the_hour(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    data = stored("nobelium")
    victim = data.truth["compromised_agents"][0]
    start = to_micros(parse_rfc3339(data.truth["attacks"][0]["window"]["start"]))
    with Store.open(data.settings(tmp_path)) as store:
        containment = RecordedContainment(store.engine)
        detector = StreamingDetector(
            store.engine, batch_events=5_000, containment=containment, contain_at=Severity.HIGH
        )
        high: dict[str, int | None] = {}
        steps = 0
        for step in detector.run():
            steps += 1
            for alert in step.alerts:
                if alert.severity.rank >= Severity.HIGH.rank and alert.agent not in high:
                    high[alert.agent] = detector.crossing(alert.agent, Severity.HIGH)
        detector.close()
        assert steps > 10
        assert list(high) == [victim]
        crossed = high[victim]
        assert crossed is not None
        assert 0 <= crossed - start <= 60 * 60 * 1_000_000
        assert [r.agent for r in containment.requests()] == [victim]
        book = AlertBook(store.engine)
        assert book.watermark("default") == detector.watermark
        assert [a.agent for a in book.alerts() if a.severity.rank >= 2] == [victim]


def test_a_restart_does_not_contain_again(stored: Callable[[str], Stored], tmp_path: Path) -> None:
    data = stored("nobelium")
    with Store.open(data.settings(tmp_path)) as store:
        containment = RecordedContainment(store.engine)
        for _ in range(2):
            detector = StreamingDetector(
                store.engine, batch_events=40_000, containment=containment,
                contain_at=Severity.HIGH,
            )  # fmt: skip
            list(detector.run())
            detector.close()
        assert len(containment.requests()) == 1


@pytest.mark.parametrize("scenario", ["baseline"])
def test_streaming_raises_nothing_high_on_honest_work(
    scenario: str, stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    with Store.open(stored(scenario).settings(tmp_path)) as store:
        detector = StreamingDetector(store.engine, batch_events=20_000, record=False)
        severities = {a.severity for step in detector.run() for a in step.alerts}
        detector.close()
    assert not severities & {Severity.HIGH, Severity.CRITICAL}


def test_one_step_over_the_whole_store_flags_the_harvester(
    stored: Callable[[str], Stored], tmp_path: Path
) -> None:
    # A follower started late catches up in one large step: each period must still be
    # fitted on the periods before it, as it is when the same events come in small steps.
    data = stored("nobelium")
    victim = data.truth["compromised_agents"][0]
    with Store.open(data.settings(tmp_path)) as store:
        detector = StreamingDetector(store.engine, batch_events=10_000_000, record=False)
        results = list(detector.run())
        detector.close()
    assert len(results) == 2  # everything, then nothing new
    serious = {a.agent for a in results[0].alerts if a.severity.rank >= Severity.HIGH.rank}
    assert serious == {victim}
