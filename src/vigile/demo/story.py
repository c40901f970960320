"""The steps of ``vigile demo``, each a call on a domain: simulate, replay (ingest and
broker), detect, respond, verify. The CLI runs them in order with a progress bar each
and prints or renders what they return; nothing here prints.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from vigile.broker import Broker
from vigile.demo.phishing import PhishingRound, phishing_round
from vigile.demo.replay import AttackerReplay, ReplayClock, ReplayOutcome, ReplayPlan, split_log
from vigile.detect import (
    Alert,
    AlertBook,
    DetectionConfig,
    Severity,
    StreamingDetector,
    detect,
)
from vigile.errors import InputError
from vigile.ingest import ingest_file
from vigile.ledger.keyfile import load_verifier
from vigile.ledger.service import public_key_path
from vigile.ledger.verify_store import VerifyReport, verify_ledger
from vigile.model import TicketEvent, TicketStep
from vigile.model.times import format_rfc3339, from_micros
from vigile.record import Recorder
from vigile.respond import (
    BlastRadius,
    BreachRecord,
    Incident,
    Incidents,
    Notice,
    Notifications,
    PlannedAction,
    Remediation,
    Scope,
    blast_radius,
    breach_record,
)
from vigile.simulate import SimulationConfig, SimulationResult, simulate
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = [
    "ACTOR",
    "EVENT_TABLES",
    "ConsoleCast",
    "DemoRun",
    "DemoStoreInUse",
    "NoticePreview",
    "Response",
    "check_unused",
    "console_cast",
    "detect_alerts",
    "first_high",
    "new_addresses",
    "plan_replay",
    "replay",
    "respond",
    "run_simulation",
    "serious",
    "verify",
]

#: Who acts in the demo's incident (recorded on its timeline).
ACTOR = "vigile demo"
#: The tables whose rows are ledger entries.
EVENT_TABLES = ("ticket_events", "signins", "accesses", "audit_events")
#: ``update(done, total)``, as the CLI's progress bars take it.
Progress = Callable[[float, float | None], None]


class DemoStoreInUse(InputError):
    """The store already holds events: the demo builds its own organisation from nothing."""


def check_unused(store: Store) -> None:
    """Refuse a store that already holds events (a demo ran here before, or real data)."""
    counts = store.counts()
    events = sum(counts.get(name, 0) for name in EVENT_TABLES)
    if events:
        raise DemoStoreInUse(
            f"the store {store.location} already holds {events:,} events (a demo ran here "
            "before?): the demo builds its own organisation in an empty store. Remove that "
            "file, or point VIGILE_DB at another one (VIGILE_DB=demo2.db vigile demo)"
        )


def run_simulation(
    out: Path,
    *,
    agents: int,
    days: int,
    seed: int,
    progress: Progress,
    scenario: str = "nobelium",
) -> tuple[SimulationResult, dict[str, Any]]:
    """The organisation and the attack of ``scenario`` (nobelium for the main story;
    prompt-injection brings its AI agents), written to ``out``; and its truth."""
    config = SimulationConfig(
        scenario=scenario, seed=seed, days=days, agents=agents, customers=agents * 10
    )
    result = simulate(config, out, progress=progress)
    truth: dict[str, Any] = orjson.loads(result.truth_path.read_bytes())
    return result, truth


def plan_replay(result: SimulationResult, truth: dict[str, Any], folder: Path) -> ReplayPlan:
    """The benign segments and the attacker's sittings of the simulated log."""
    ids = frozenset(i for attack in truth["attacks"] for i in attack["event_ids"])
    return split_log(result.path, ids, folder)


def replay(
    store: Store,
    plan: ReplayPlan,
    agent: str,
    progress: Progress,
    timings: dict[str, float] | None = None,
) -> ReplayOutcome:
    """Ingest each benign segment, then replay the next sitting through the broker with
    its clock at each event's time: the events are stored about in time order. Adds the
    seconds spent storing and in the broker to ``timings``."""
    spent = {"store": 0.0, "broker": 0.0}
    clock = ReplayClock()
    broker = Broker(store, store.settings, clock=clock)
    attacker = AttackerReplay(broker, clock, agent)
    total = plan.benign_events + plan.attacker_events
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if done % 50 == 0:
            progress(done, total)

    try:
        for k, segment in enumerate(plan.segments):
            started = time.perf_counter()
            summary = ingest_file(store, segment)  # decoded in a worker when large
            spent["store"] += time.perf_counter() - started
            done += summary.events_stored
            progress(done, total)
            if k < len(plan.sittings):
                started = time.perf_counter()
                attacker.play(plan.sittings[k], step)
                spent["broker"] += time.perf_counter() - started
    finally:
        broker.close()
    if timings is not None:
        timings.update({f"replay: {name}": value for name, value in spent.items()})
    progress(total, total)
    return attacker.outcome()


def detect_alerts(store: Store, config: DetectionConfig) -> list[Alert]:
    """Batch detection over everything stored; the alerts recorded, most severe first."""
    return AlertBook(store.engine).record(detect(store.engine, config))


def first_high(store: Store, config: DetectionConfig, agent: str) -> int | None:
    """When streaming detection, fed the stored events in the ledger's order a batch at
    a time as ``vigile detect --follow`` would have been during the attack, first put
    ``agent`` at high or above (microseconds), or None. Nothing is recorded."""
    follower = StreamingDetector(store.engine, config, batch_events=_STREAM_BATCH, record=False)
    try:
        for step in follower.run():
            for alert in step.alerts:
                if alert.agent == agent and alert.severity.rank >= Severity.HIGH.rank:
                    return follower.crossing(agent, Severity.HIGH) or step.latest_us
        return None
    finally:
        follower.close()


_STREAM_BATCH = 10_000  # events per step: a few hours of the organisation at a time


@dataclass(frozen=True, kw_only=True, slots=True)
class NoticePreview:
    """One drafted notification: where it was written, and its text for the report."""

    customer: str
    language: str
    path: Path
    subject: str
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Response:
    """The incident opened from the alert and what was prepared for it (nothing sent,
    nothing applied)."""

    incident: Incident
    radius: BlastRadius  # the incident's scope: the agent on the attacker's addresses
    whole_radius: BlastRadius  # the whole account over the alert's window (conservative)
    previews: tuple[NoticePreview, ...]
    unreachable: tuple[str, ...]
    plan: tuple[PlannedAction, ...]
    record: BreachRecord
    phishing: PhishingRound | None = None  # the phishing that follows, and the guard

    def languages(self) -> dict[str, int]:
        return dict(sorted(Counter(p.language for p in self.previews).items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "incident": self.incident.to_json(),
            "blast_radius": self.radius.summary.to_json(),
            "whole_account_blast_radius": self.whole_radius.summary.to_json(),
            "notifications": {
                "drafted": len(self.previews),
                "languages": self.languages(),
                "unreachable": len(self.unreachable),
                "folder": str(self.previews[0].path.parent) if self.previews else None,
                "sent": 0,
            },
            "remediation": {
                "applied": False,
                "actions": [a.to_json() for a in self.plan],
                "by_kind": dict(Counter(a.kind.value for a in self.plan)),
            },
            "phishing": self.phishing.to_json() if self.phishing else None,
        }


def serious(alerts: list[Alert]) -> list[Alert]:
    """The alerts at high or critical."""
    return [a for a in alerts if a.severity in (Severity.HIGH, Severity.CRITICAL)]


def respond(store: Store, alert: Alert, outcome: ReplayOutcome) -> Response:
    """Open the incident from ``alert``, compute its blast radius, draft the customer
    notifications (previews only) and plan the remediation (not applied).

    The incident is scoped as an analyst would: the alert's agent, from its first evidence,
    on the addresses among the evidence's sign-ins the agent had never used before (the
    real agent's own work stays out); the whole account's radius is computed beside it.
    """
    incidents = Incidents(store)
    now = incidents.clock()
    whole = Scope(agents=(alert.agent,), since=alert.first_seen, until=max(now, alert.last_seen))
    addresses = new_addresses(store, alert)
    scope = dataclasses.replace(whole, ips=addresses) if addresses else whole
    where = f" from {', '.join(addresses)}" if addresses else ""
    incident = incidents.open(
        title=f"Hijacked support account {alert.agent}{where}",
        scope=scope,
        actor=ACTOR,
        alert=str(alert.id),
        aware=_raised(store, alert),
    )
    incidents.note(
        incident.id,
        f"Replayed by the demo: the attacker's {outcome.requests:,} requests went through the "
        f"broker; {outcome.denied:,} were denied, {outcome.revealed:,} answered in clear.",
        ACTOR,
    )
    preview = Notifications(incidents).preview(incident.id, ACTOR)
    plan = Remediation(incidents).propose(incident.id, ACTOR)
    return Response(
        incident=incident,
        radius=blast_radius(store, scope),
        whole_radius=blast_radius(store, whole),
        previews=tuple(_preview(n, p) for n, p in zip(preview.notices, preview.paths, strict=True)),
        unreachable=preview.unreachable,
        plan=tuple(plan),
        record=breach_record(incidents, incident.id),
        phishing=phishing_round(store, incident.id, preview.notices),
    )


def new_addresses(store: Store, alert: Alert) -> tuple[str, ...]:
    """Addresses of the sign-ins among the alert's evidence that its agent had never
    signed in from before the evidence starts."""
    s = t.signins
    earlier = select(s.c.ip).where(
        s.c.agent == alert.agent, s.c.time_us < alert.first_us, s.c.ip.is_not(None)
    )
    found: set[str] = set()
    evidence = list(alert.evidence)
    with connect(store.engine) as conn:
        for start in range(0, len(evidence), 500):
            query = select(s.c.ip).where(
                s.c.id.in_(evidence[start : start + 500]), s.c.ip.not_in(earlier)
            )
            found.update(ip for ip in conn.execute(query).scalars() if ip)
    return tuple(sorted(found))


def _raised(store: Store, alert: Alert) -> datetime | None:
    """When the alert was raised: the time of awareness (GDPR Art. 33)."""
    a = t.detect_alerts
    with connect(store.engine) as conn:
        created = conn.execute(select(a.c.created_us).where(a.c.id == alert.id)).scalar()
    return from_micros(created) if created is not None else None


def _preview(notice: Notice, path: Path) -> NoticePreview:
    body = notice.message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    subject = str(notice.message["Subject"] or "")
    return NoticePreview(
        customer=notice.customer, language=notice.language, path=path, subject=subject, text=text
    )


def verify(store: Store, progress: Callable[[int], None]) -> VerifyReport:
    """Recompute the ledger from the stored events and check every signed checkpoint."""
    verifier = load_verifier(public_key_path(store.settings))
    with connect(store.engine) as conn:
        return verify_ledger(conn, verifier, progress=progress)


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoRun:
    """Everything the demo built and found, for the terminal, JSON and the report."""

    store: str
    out: Path
    tables: dict[str, int]
    truth: dict[str, Any]
    outcome: ReplayOutcome
    alerts: tuple[Alert, ...]
    first_high_us: int | None  # streaming detection's first high on the attacked agent
    response: Response | None  # None when nothing reached high
    ledger: VerifyReport
    timings: dict[str, float]
    report: Path

    @property
    def compromised(self) -> tuple[str, ...]:
        return tuple(self.truth.get("compromised_agents", []))

    @property
    def minutes_to_detect(self) -> float | None:
        """Minutes from the attacker's first event to streaming detection's first high."""
        if self.first_high_us is None or not self.outcome.first_us:
            return None
        return (self.first_high_us - self.outcome.first_us) / 60_000_000

    def _streaming(self) -> dict[str, Any]:
        first = self.first_high_us
        minutes = self.minutes_to_detect
        return {
            "first_high": format_rfc3339(from_micros(first)) if first is not None else None,
            "minutes_after_first_attacker_event": None if minutes is None else round(minutes, 1),
        }

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        return {
            "store": self.store,
            "out": str(self.out),
            "tables": self.tables,
            "truth": self.truth,
            "broker": self.outcome.to_json(),
            "alerts": [alert.as_json() for alert in self.alerts],
            "detected": sorted({a.agent for a in serious(list(self.alerts))}),
            "streaming": self._streaming(),
            "response": self.response.to_json() if self.response else None,
            "ledger": {
                "ok": self.ledger.ok,
                "entries": self.ledger.entries,
                "checkpoints": self.ledger.checkpoints,
                "root": self.ledger.root,
                "problem": str(self.ledger.problem) if self.ledger.problem else None,
            },
            "report": str(self.report),
            "seconds": {name: round(value, 2) for name, value in self.timings.items()},
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsoleCast:
    """Who the demo's console accounts act as."""

    customer: str  # a customer the attacker asked about ("" when there is none)
    agent: str  # an honest agent who served it before ("" when there is none)
    ticket: str  # the ticket just opened for that agent and customer


def console_cast(store: Store, truth: dict[str, Any], now: datetime) -> ConsoleCast:
    """A customer the attacker asked about and an honest agent who served it before,
    with a ticket of that customer opened and assigned to the agent at ``now`` (the
    simulation closes every ticket it opens): in the console the agent can reveal that
    customer's data with a justification, and the customer sees it in its access log.
    The ticket's steps are recorded like any other events (store and ledger)."""
    attacked = [c for attack in truth.get("attacks", []) for c in attack.get("customers", [])]
    if not attacked:
        return ConsoleCast(customer="", agent="", ticket="")
    customer = attacked[0]
    agent = _honest_agent_of(store, customer, set(truth.get("compromised_agents", [])))
    if not agent:
        return ConsoleCast(customer=customer, agent="", ticket="")
    ticket = f"T-DEMO-{customer.upper()}"
    steps = (TicketStep.OPENED, TicketStep.ASSIGNED)
    Recorder(store).record(
        [
            TicketEvent(
                id=f"{ticket}/{step.value}", time=now, ticket=ticket, event=step,
                customer=customer, agent=agent if step is TicketStep.ASSIGNED else None,
                category="billing",
            )
            for step in steps
        ]
    )  # fmt: skip
    return ConsoleCast(customer=customer, agent=agent, ticket=ticket)


def _honest_agent_of(store: Store, customer: str, compromised: set[str]) -> str:
    """The honest agent who was last assigned a ticket of ``customer``, else any."""
    e = t.ticket_events
    assigned = select(e.c.agent).where(e.c.event == "assigned", e.c.agent.is_not(None))
    ordered = e.c.time_us.desc()
    with connect(store.engine) as conn:
        for query in (assigned.where(e.c.customer == customer), assigned):
            for agent in conn.execute(query.order_by(ordered).limit(200)).scalars():
                if agent not in compromised:
                    return str(agent)
    return ""
