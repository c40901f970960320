"""A synthetic support organisation at work, and the attacks on it.

Agents in regional product teams sign in, take tickets and view customer data under them;
scenarios add an attacker on top (an account takeover, a bribed insider, a replayed
session, a sweep through an admin tool). :func:`simulate` writes the activity log
(docs/spec/activity-log.md) and ``truth.json``, the answer key for detection::

    from vigile.simulate import SimulationConfig, simulate

    result = simulate(SimulationConfig(scenario="nobelium", seed=7), "out/")
"""

from vigile.simulate.config import SimulationConfig, SimulationResult
from vigile.simulate.engine import simulate
from vigile.simulate.scenarios import SCENARIOS, register_scenario
from vigile.simulate.threat import Attack, Scenario, Window

__all__ = [
    "SCENARIOS",
    "Attack",
    "Scenario",
    "SimulationConfig",
    "SimulationResult",
    "Window",
    "register_scenario",
    "simulate",
]
