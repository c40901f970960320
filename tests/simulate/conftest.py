"""Small simulations, made once per test session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.simulate.sample import Simulated, run
from vigile.simulate import SCENARIOS


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Simulated]:
    """The small simulation of a scenario, made on first use."""
    made: dict[str, Simulated] = {}

    def get(scenario: str) -> Simulated:
        if scenario not in made:
            assert scenario in SCENARIOS
            made[scenario] = run(tmp_path_factory.mktemp(scenario), scenario=scenario)
        return made[scenario]

    return get


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    """A baseline large enough to show every kind of honest noise."""
    return run(tmp_path_factory.mktemp("baseline-40"), agents=40)
