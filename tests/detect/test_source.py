"""Reading the store (in a thread or a process of its own: the same batches) and shift
intervals (computed once per zone and shift, the same as each agent's alone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from sqlalchemy import create_engine

from tests.conftest import SPEC_EXAMPLE
from tests.detect.conftest import Stored
from vigile.detect import source
from vigile.detect.errors import DetectError
from vigile.detect.source import DAY_US, read_batches, read_events, shift_table
from vigile.ingest import ingest_file
from vigile.model import Access, Action
from vigile.record import Recorder
from vigile.respond import Incidents, Reader, Shown
from vigile.store import Store

_DAY = '{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:30"}'
_NIGHT = '{"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}'


def test_agents_sharing_a_shift_get_the_pieces_each_would_alone() -> None:
    shifts = {
        "a-1": ("Europe/Paris", _DAY),
        "a-2": ("America/New_York", _NIGHT),
        "a-3": ("Europe/Paris", _DAY),
        "a-4": ("UTC", ""),  # no declared shift: no rows
    }
    first = 1_616_889_600_000_000  # 2021-03-28, the night Paris moves to summer time
    together = shift_table(shifts, first, first + 10 * DAY_US)
    alone = [shift_table({a: s}, first, first + 10 * DAY_US) for a, s in shifts.items()]
    order = [("agent", "ascending"), ("day_us", "ascending"), ("start_us", "ascending")]
    assert together.sort_by(order).equals(pa.concat_tables(alone).sort_by(order))
    agents = together.column("agent").to_pylist()
    assert agents.count("a-1") == agents.count("a-3") > 0
    assert agents.count("a-2") > 0
    assert "a-4" not in agents


def test_a_reader_process_reads_what_a_thread_reads(
    stored: Callable[[str], Stored], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many batches are read in a process of its own (no contention for the interpreter
    # lock with the caller): the batches are those a reading thread gets.
    data = stored("baseline")
    with Store.open(data.settings(tmp_path)) as store:
        assert source._worth_a_process(store.engine, -1, 20_000, None)
        in_process = list(read_batches(store.engine, limit=20_000))
        monkeypatch.setattr(source, "_worth_a_process", lambda *_: False)
        in_thread = list(read_batches(store.engine, limit=20_000))
    assert len(in_process) == len(in_thread) > 3
    for got, expected in zip(in_process, in_thread, strict=True):
        assert got.upto == expected.upto
        assert got.accesses.equals(expected.accesses)
        assert got.signins.equals(expected.signins)
        assert got.ticket_events.equals(expected.ticket_events)


def test_a_failing_reader_process_is_an_error(tmp_path: Path) -> None:
    missing = create_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    with pytest.raises(DetectError, match="cannot read events"):
        list(source._read_in_process(missing, after=-1, limit=10, upto=None))


def test_analysts_incident_reads_are_left_out_and_nothing_else(store: Store) -> None:
    ingest_file(store, SPEC_EXAMPLE)  # e-2: an agent's contact view
    when = datetime(2021, 5, 20, 10, tzinfo=UTC)
    lookalikes = [  # extra fields that only look like an incident's justification
        Access(
            id=f"e-{name}",
            time=when,
            agent="a-0017",
            session="s-9f3",
            action=Action.CUSTOMER_VIEW,
            customer="c-00412",
            outcome="allowed",
            extra=extra,
        )
        for name, extra in (
            ("number", {"incident": 7}),
            ("nested", {"source": {"incident": "INC-9"}}),
            ("value", {"note": '"incident": "INC-9"'}),
        )
    ]
    Recorder(store).record(lookalikes)
    reader = Reader(agent="sam", session="s-sam")
    Incidents(store, clock=lambda: when).record_reads(
        "INC-0001", reader, [Shown(customer="c-00412", fields=("customer.name",))]
    )
    read = read_events(store.engine).accesses
    assert sorted(read.column("id").to_pylist()) == ["e-2", "e-nested", "e-number", "e-value"]
