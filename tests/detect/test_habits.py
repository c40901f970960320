"""Stable habits (issue #18): behaviour an agent, or its whole team, has shown on most
working days of every week of history raises the rate it is held to; the same behaviour
appearing after a first week without it does not."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from vigile.detect.baseline import Baselines, hourly_habits, learn_habits, surprise
from vigile.detect.source import DAY_US

_START = 1_770_000_000 * 1_000_000 // DAY_US * DAY_US


Columns = dict[str, npt.NDArray[np.float64]]


def _days(
    rows: list[tuple[str, str, int, float]],
) -> tuple[list[str], list[str], npt.NDArray[np.int64], Columns]:
    agents = [r[0] for r in rows]
    teams = [r[1] for r in rows]
    buckets = np.array([_START + r[2] * DAY_US for r in rows], dtype=np.int64)
    return agents, teams, buckets, {"unjustified_customers": np.array([r[3] for r in rows])}


def _weekdays(weeks: int) -> list[int]:
    return [w * 7 + d for w in range(weeks) for d in range(5)]


def test_a_daily_habit_since_the_first_week_is_learnt_with_its_amount() -> None:
    rows = [("lead", "desk", d, 10.0 + d % 3) for d in _weekdays(3)]
    habits = learn_habits(*_days(rows))
    assert habits.amount("lead", "desk", "unjustified_customers") == pytest.approx(
        np.mean([10.0 + d % 3 for d in _weekdays(3)])
    )


def test_behaviour_starting_in_week_two_is_no_habit() -> None:
    """The low-and-slow insider: a first week without, then every day."""
    rows = [("insider", "desk", d, 0.0 if d < 7 else 4.0) for d in _weekdays(3)]
    habits = learn_habits(*_days(rows))
    assert habits.amount("insider", "desk", "unjustified_customers") == 0.0


def test_behaviour_on_a_few_days_a_week_is_no_habit() -> None:
    rows = [("agent", "desk", d, 3.0 if d % 7 in (0, 3) else 0.0) for d in _weekdays(3)]
    assert learn_habits(*_days(rows)).amount("agent", "desk", "unjustified_customers") == 0.0


def test_a_whole_teams_habit_counts_for_each_member() -> None:
    """Four of five members review daily: the fifth (and a new hire) is held to it too."""
    rows = [
        (f"a{i}", "assurance", d, 0.0 if i == 4 else 15.0) for i in range(5) for d in _weekdays(2)
    ]
    habits = learn_habits(*_days(rows))
    assert habits.amount("a4", "assurance", "unjustified_customers") == pytest.approx(15.0)
    assert habits.amount("new-hire", "assurance", "unjustified_customers") == pytest.approx(15.0)
    assert habits.amount("a4", "other-team", "unjustified_customers") == 0.0


def test_a_habit_raises_the_rate_but_far_more_still_surprises() -> None:
    rows = [("lead", "desk", d, 12.0) for d in _weekdays(2)]
    habits = learn_habits(*_days(rows))
    plain = Baselines(
        agent_rates={"lead": {"unjustified_customers": 0.02}}, team_rates={},
        history={"lead": 100}, min_history=40,
    )  # fmt: skip
    learnt = Baselines(
        agent_rates=plain.agent_rates, team_rates={}, history=plain.history, min_history=40,
        habits=habits,
    )  # fmt: skip
    assert plain.rate("lead", "desk", "unjustified_customers") == pytest.approx(0.02)
    assert learnt.rate("lead", "desk", "unjustified_customers") == pytest.approx(12.0)
    usual, harvest = surprise(np.array([14.0, 120.0]), np.array([12.0, 12.0]))
    assert usual < 1.0 < 12.0 <= harvest  # a usual day is noise, a harvest is not


def test_a_habits_hourly_amount_is_its_mean_over_the_hours_it_was_shown() -> None:
    """A lead's burst of twelve keeps twelve an hour; three lookups a day spread over
    the shift are one an hour, so the first hour of a sweep still stands out."""
    days = [(a, "desk", d, 12.0 if a == "lead" else 3.0) for a in ("lead", "clerk")
            for d in _weekdays(2)]  # fmt: skip
    habits = learn_habits(*_days(days))
    hours = [("lead", "desk", 0, 12.0), ("lead", "desk", 0, 0.0)] + [("clerk", "desk", 0, 1.0)] * 3
    agents, teams, _, columns = _days(hours)
    hourly = hourly_habits(habits, agents, teams, columns)
    assert hourly.agents["lead"]["unjustified_customers"] == pytest.approx(12.0)
    assert hourly.agents["clerk"]["unjustified_customers"] == pytest.approx(1.0)
