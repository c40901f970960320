"""One simulated day: every shift that starts on that date and every attack of that date.

A day depends only on the configuration (each agent-day draws from its own random stream),
so days can be made in any order, by any process, and come out the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigile.simulate.aiagents import ai_day_plan, ai_work_day
from vigile.simulate.clock import DAY
from vigile.simulate.emit import DayLog, Emitter
from vigile.simulate.ordering import Block
from vigile.simulate.threat import Attack
from vigile.simulate.truth import Evidence
from vigile.simulate.workday import DayTrace, day_plan, work_day
from vigile.simulate.world import World

__all__ = ["DayOutput", "Job", "generate_day"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    """What every worker needs: the world and the attacks to run in it."""

    world: World
    attacks: tuple[Attack, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DayOutput:
    """One day's records sorted by time, the attacks' evidence, and counts by kind."""

    day: int
    block: Block
    evidence: dict[int, Evidence]
    counts: dict[str, int]


def _tally(log: DayLog, emitters: list[Emitter]) -> dict[str, int]:
    ids = sum(e.ids for e in emitters)  # every sign-in and access has an id, tickets none
    signins = sum(e.signins for e in emitters)
    return {"accesses": ids - signins, "signins": signins, "ticket_steps": len(log) - ids}


def _attacks_of(
    job: Job, day: int, traces: dict[int, DayTrace], log: DayLog, emitters: list[Emitter]
) -> dict[int, Evidence]:
    world, found = job.world, {}
    first_slot = len(world.org.agents)
    for attack in job.attacks:
        if day not in attack.window:
            continue
        own = DayLog()
        emitter = Emitter(own, world.mint, day=day, slot=first_slot + attack.number,
                          agent=attack.agent.id)  # fmt: skip
        attack.act(world, day, traces.get(attack.agent.index), emitter)
        found[attack.number] = Evidence.of(own)
        log.extend(own)
        emitters.append(emitter)
    return found


def generate_day(job: Job, day: int) -> DayOutput:
    """Every record of day ``day``, sorted by time."""
    world = job.world
    victims = {attack.agent.index for attack in job.attacks}
    log = DayLog()
    emitters: list[Emitter] = []
    traces: dict[int, DayTrace] = {}
    for agent in world.org.agents:
        plan = day_plan(world, agent, day)
        if plan is not None:
            emitter = Emitter(log, world.mint, day=day, slot=agent.index, agent=agent.id)
            emitters.append(emitter)
            trace = work_day(world, plan, emitter)
            if agent.index in victims:
                traces[agent.index] = trace
    for ai in world.org.ai_agents:  # none unless asked for
        plan = ai_day_plan(world, ai, day)
        emitter = Emitter(log, world.mint, day=day, slot=ai.profile.index, agent=ai.profile.id)
        emitters.append(emitter)
        traces[ai.profile.index] = ai_work_day(world, ai, plan, emitter)
    evidence = _attacks_of(job, day, traces, log, emitters)
    block = Block.of(log)
    if len(block) and block.times[0] < world.calendar.midnight(day) - DAY:
        raise RuntimeError(f"day {day} reaches back more than a day before its date")
    return DayOutput(day=day, block=block, evidence=evidence, counts=_tally(log, emitters))
