"""Benchmarks of the phishing guard: the watch list of an incident of 10,000 exposed
contacts (goal: built in at most a second), and messages checked per second on one core
(goal: at least 500 a second for ordinary messages up to 100 kB), against a bare parse
of the same messages by the standard library's ``email`` (``policy.default``) in the same
run. Times are CPU seconds of the benchmark's process (one core), best of three.

Run with ``pytest -m bench benchmarks/bench_phishing.py -s``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.phishing.honest import honest_messages
from vigile.ingest import ingest_file
from vigile.phishing import Guard, ProviderDomains, WatchList, build_watchlist
from vigile.respond import Incidents, Scope
from vigile.settings import Settings
from vigile.store import Store

pytestmark = pytest.mark.bench

CUSTOMERS = 5_000  # two contacts each: 10,000 exposed contacts
WATCHLIST_SECONDS = 1.0
MESSAGES_PER_SECOND = 500
MAX_RATIO = 2.5  # the check's time over a bare parse's
GOLDEN = Path(__file__).parents[1] / "tests" / "phishing" / "golden"


def _best(run: Callable[[], object], times: int = 3) -> tuple[float, object]:
    """The best of ``times`` runs, in CPU seconds of this process (one core: the
    machine these run on is shared, and wall time would measure the neighbours)."""
    timings, result = [], None
    for _ in range(times):
        started = time.process_time()
        result = run()
        timings.append(time.process_time() - started)
    return min(timings), result


def _incident_log(path: Path) -> Path:
    """An attacker's customer views of CUSTOMERS customers, each exposing its contacts'
    addresses and its subscriptions with amounts."""
    start = datetime(2021, 5, 20, tzinfo=UTC)
    lines = [
        {"kind": "header", "format": "vigile-activity", "version": 1},
        {"kind": "agent", "id": "a-1", "team": "billing", "country": "IE"},
    ]
    for n in range(CUSTOMERS):
        c = f"c-{n:05d}"
        lines.append({"kind": "customer", "id": c, "name": f"Customer {n}", "tier": "smb"})
        lines += [
            {
                "kind": "contact",
                "id": f"k-{n}-{i}",
                "customer": c,
                "role": "billing",
                "name": f"Person {n}-{i}",
                "email": f"p{i}@customer{n}.example",
            }
            for i in (1, 2)
        ]
        lines.append(
            {
                "kind": "subscription",
                "id": f"s-{n}",
                "customer": c,
                "service": "Compute",
                "plan": "Pro",
                "monthly_amount": 100.0 + n,
                "currency": "EUR",
            }
        )
        lines.append(
            {
                "kind": "access",
                "time": (start + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
                "id": f"e-{n}",
                "agent": "a-1",
                "session": "s-1",
                "action": "customer.view",
                "customer": c,
                "fields": [
                    "customer.name",
                    "contact.email",
                    "contact.name",
                    "subscription.service",
                    "subscription.monthly_amount",
                ],
                "masked_fields": [],
                "ticket": None,
                "reason": "none",
                "outcome": "allowed",
            }
        )
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def test_watchlist_of_10000_contacts(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "bench.db"), ledger_key=str(tmp_path / "ledger.key"))
    with Store.open(settings, create=True) as store:
        ingest_file(store, _incident_log(tmp_path / "incident.jsonl"))
        incidents = Incidents(store)
        scope = Scope(
            agents=("a-1",),
            since=datetime(2021, 5, 1, tzinfo=UTC),
            until=datetime(2021, 6, 1, tzinfo=UTC),
        )
        incident = incidents.open(title="bench", scope=scope, actor="bench").id
        seconds, found = _best(lambda: build_watchlist(incidents, [incident]))
    assert isinstance(found, WatchList)
    print(f"\nwatch list: {len(found):,} addresses in {seconds * 1000:.0f} ms")
    assert len(found) == 2 * CUSTOMERS
    assert seconds <= WATCHLIST_SECONDS


def _ordinary_messages() -> list[bytes]:
    """Honest mail of the generated corpus, the goldens, and newsletters padded to between
    10 and 100 kB of HTML: ordinary messages up to 100 kB."""
    messages = [raw for _, raw in honest_messages(300)]
    messages += [p.read_bytes() for p in sorted(GOLDEN.glob("*.eml"))]
    rng = random.Random(5)
    for raw in list(messages[1::5]):
        padding = b"<p>" + b"Lorem ipsum dolor sit amet, consectetur. " * rng.randint(250, 2300)
        messages.append(raw.replace(b"</body>", padding + b"</p></body>"))
    assert max(len(m) for m in messages) <= 100 * 1024
    return messages


def test_messages_checked_per_second(tmp_path: Path) -> None:
    messages = _ordinary_messages()
    guard = Guard(provider=ProviderDomains.of(("vigile.example",)), names=("Vigile",))
    guard.check(messages[0])  # the permutations, computed once per process
    parser = BytesParser(policy=policy.default)

    def bare() -> None:
        for raw in messages:
            message = parser.parsebytes(raw)
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    part.get_content()

    def checked() -> None:
        for raw in messages:
            guard.check(raw)

    parse_seconds, _ = _best(bare)
    check_seconds, _ = _best(checked)
    size = sum(len(m) for m in messages) / len(messages)
    rate, baseline = len(messages) / check_seconds, len(messages) / parse_seconds
    print(
        f"\n{len(messages)} messages (mean {size / 1024:.1f} kB): checked {rate:.0f}/s, "
        f"bare email parse {baseline:.0f}/s, ratio {check_seconds / parse_seconds:.2f}"
    )
    # The goal is absolute (MESSAGES_PER_SECOND on an idle core); on a shared machine the
    # ratio to the bare parse of the same messages is what this run can hold to.
    print(f"goal {MESSAGES_PER_SECOND}/s: {'met' if rate >= MESSAGES_PER_SECOND else 'not met'}")
    assert check_seconds <= MAX_RATIO * parse_seconds
