"""The engine: arguments checked, files written atomically, days merged in time order."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigile.errors import InputError, OutputError
from vigile.simulate import SimulationConfig, simulate
from vigile.simulate.emit import DayLog, Emitter
from vigile.simulate.keys import IdMint
from vigile.simulate.ordering import Block, TimeOrder

TINY = {"scenario": "baseline", "seed": 3, "days": 3, "agents": 4}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"scenario": "nope"}, "unknown scenario 'nope'; known scenarios: baseline"),
        ({"seed": -1}, "seed must be between 0"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"days": 0}, "days must be between 1 and"),
        ({"agents": 2}, "agents must be between 3 and"),
        ({"agents": True}, "agents must be a whole number"),
        ({"customers": 5}, "customers must be between 30 and"),
        ({"start": "2021-05-01"}, "start must be a date"),
        ({"start": datetime(2021, 5, 1)}, "start must be a date"),
    ],
)
def test_bad_arguments_are_refused_clearly(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        SimulationConfig(**{**TINY, **overrides})


def test_defaults_fit_the_seed_incident() -> None:
    config = SimulationConfig(scenario="nobelium")
    assert config.start == date(2021, 5, 1)
    assert config.customer_count == 10 * config.agents


def test_an_unwritable_folder_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="cannot create the output folder"):
        simulate(SimulationConfig(**TINY), blocker / "out")


def _spools() -> set[Path]:
    return {*Path("/dev/shm").glob(".vigile-days-*"), *Path.cwd().glob("**/.vigile-days-*")}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failure_midway_leaves_nothing_behind(tmp_path: Path, workers: int) -> None:
    def stop(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    before = _spools()
    with pytest.raises(KeyboardInterrupt):
        simulate(SimulationConfig(**TINY), tmp_path, progress=stop, workers=workers)
    assert list(tmp_path.iterdir()) == []
    assert _spools() <= before


def test_progress_counts_the_days(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    simulate(SimulationConfig(**TINY), tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_an_existing_log_is_replaced_whole(tmp_path: Path) -> None:
    (tmp_path / "activity.jsonl").write_text("old\n")
    result = simulate(SimulationConfig(**TINY), tmp_path)
    assert not result.path.read_text().startswith("old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["activity.jsonl", "truth.json"]


def test_ids_are_unique_per_day_slot_and_counter() -> None:
    mint = IdMint.for_seed(5)
    ids = {mint.event(day, slot, n) for day in range(3) for slot in range(40) for n in range(50)}
    assert len(ids) == 3 * 40 * 50
    assert mint.events(2, 7)(9) == mint.event(2, 7, 9)
    assert IdMint.for_seed(6).event(0, 0, 0) != mint.event(0, 0, 0)


@pytest.mark.parametrize(
    "query", ["northwind a", "o'brien & co", 'say "hi"', "back\\slash", "é\tx", ""]
)
def test_templates_and_orjson_encode_searches_alike(query: str) -> None:
    log = DayLog()
    emitter = Emitter(log, IdMint.for_seed(1), day=0, slot=0, agent="a-0001")
    emitter.session, emitter.ip = "s-1", "192.0.2.1"
    emitter.search(60, query, ("c-00001", "c-00002"), None, "agent_initiated_review")
    emitter.search(61, query, (), "T-1", "customer_initiated_support")
    first, second = (orjson.loads(line) for line in log.lines)
    assert first["query"] == second["query"] == query
    assert first["results"] == ["c-00001", "c-00002"]
    assert second["results"] == []
    assert list(first) == list(second)


def _block(records: list[tuple[int, str]]) -> Block:
    log = DayLog()
    for t, text in records:
        log.times.append(t)
        log.lines.append(f"{t} {text}\n".encode())
    return Block.of(log)


days = st.lists(
    st.lists(st.tuples(st.integers(0, 50), st.text("abc", max_size=3)), max_size=30),
    max_size=5,
)


@given(days=days, cuts=st.lists(st.integers(0, 60), max_size=5))
def test_merging_days_equals_sorting_everything(
    days: list[list[tuple[int, str]]], cuts: list[int]
) -> None:
    """The run-based merge against the obvious reference: sort all lines by time."""
    order, out = TimeOrder(), b""
    for i, day in enumerate(days):
        order.add(_block(day))
        before = sorted(cuts)[i] if i < len(cuts) else None
        if before is not None and all(t >= before for later in days[i + 1 :] for t, _ in later):
            out += order.release(before=before)
    out += order.release()
    expected = [f"{t} {text}\n".encode() for day in days for t, text in day]
    expected.sort(key=lambda line: int(line.split(b" ")[0]))
    assert out == b"".join(expected)
