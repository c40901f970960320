"""Shift intervals: computed once per (zone, shift) and shared by the agents that have it,
the same as computing each agent's alone."""

from __future__ import annotations

import pyarrow as pa  # type: ignore[import-untyped]

from vigile.detect.source import DAY_US, shift_table

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
