"""``vigile demo``: a simulated organisation, the nobelium attacker replayed through the
access broker, detection, the incident response it calls for, the ledger verified, and a
self-contained HTML report. Like the CLI, this package composes the domains (simulate,
ingest, broker, detect, respond, ledger); none of them imports it.
"""

from vigile.demo.replay import AttackerReplay, ReplayClock, ReplayOutcome, ReplayPlan, split_log
from vigile.demo.report import render_report, write_report
from vigile.demo.story import DemoRun, DemoStoreInUse, Response

__all__ = [
    "AttackerReplay",
    "DemoRun",
    "DemoStoreInUse",
    "ReplayClock",
    "ReplayOutcome",
    "ReplayPlan",
    "Response",
    "render_report",
    "split_log",
    "write_report",
]
