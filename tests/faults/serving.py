"""What the fault tests drive: ``vigile serve`` in a subprocess over a small support
organisation, a bounded concurrent load of requests for customer data, and the checks
that every answer was one the broker may give.

Each request of a load asks for the contacts of its own customer (``c-N`` for the N-th
request, under its ticket ``T-N`` assigned to the agent), so an answer is matched with
its stored access by customer: "no answer without its stored event" is checked request
by request, not only by counting.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.serving import Server
from tests.serving import serve as serving
from vigile.broker import LocalTokens
from vigile.ledger import load_verifier
from vigile.ledger.service import public_key_path
from vigile.ledger.verify_store import verify_ledger
from vigile.model import Agent, Contact, Customer, Record, TicketEvent, TicketStep
from vigile.settings import Settings
from vigile.store import Store
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = [
    "AGENT",
    "UNAVAILABLE",
    "Answer",
    "Load",
    "Server",
    "allowed_customers",
    "assert_answers_recorded",
    "assert_ledger_verifies",
    "assert_one_error_shape",
    "organisation",
    "serve",
    "token_for",
]

AGENT = "a-1"
#: What a 503 says, whatever the store's trouble (the cause goes to the server's log).
UNAVAILABLE = "the store is unavailable; try again later"


def organisation(customers: int) -> list[Record]:
    """One agent, and ``customers`` customers with a contact and an open ticket each,
    assigned to the agent."""
    opened = datetime.now(UTC) - timedelta(hours=1)
    records: list[Record] = [Agent(id=AGENT, tier=2, team="emea")]
    for n in range(customers):
        records += [
            Customer(id=f"c-{n}", name=f"Customer {n}", tier="smb"),
            Contact(id=f"k-{n}", customer=f"c-{n}", email=f"x{n}@c{n}.example"),
            TicketEvent(
                id=f"T-{n}/o",
                time=opened,
                ticket=f"T-{n}",
                event=TicketStep.OPENED,
                customer=f"c-{n}",
            ),
            TicketEvent(
                id=f"T-{n}/a",
                time=opened,
                ticket=f"T-{n}",
                event=TicketStep.ASSIGNED,
                agent=AGENT,
            ),
        ]
    return records


def token_for(settings: Settings) -> str:
    """A local token of the agent, with a second factor."""
    return LocalTokens(settings).issue(
        AGENT, roles=frozenset({"agent"}), mfa="totp", now=datetime.now(UTC)
    )


#: One agent reaches every customer of the load: no velocity limit in the way.
_UNLIMITED = {
    "VIGILE_BROKER_CUSTOMERS_PER_HOUR": "1000000000",
    "VIGILE_BROKER_REVEALS_PER_HOUR": "1000000000",
}


@contextmanager
def serve(settings: Settings, log: Path, **env: str) -> Iterator[Server]:
    """``vigile serve`` (:func:`tests.serving.serve`) with no velocity limit in the load's
    way, and ``env`` on top."""
    with serving(settings, log, {**_UNLIMITED, **env}) as server:
        yield server


@dataclass(frozen=True, slots=True)
class Answer:
    """One request of a load: its customer number, when it was sent and answered
    (monotonic seconds), and the answer (``status`` None: no answer, the connection
    failed)."""

    customer: int
    sent: float
    answered: float
    status: int | None
    body: Any = None
    request_id: str | None = None


@dataclass
class Load:
    """``threads`` clients asking for contacts, one customer per request (from number
    ``first`` on), each pausing ``pause`` seconds between requests, until :meth:`stop` or
    customer number ``customers``."""

    server: Server
    token: str
    customers: int
    threads: int = 6
    pause: float = 0.01
    first: int = 0
    answers: list[Answer] = field(default_factory=list)
    _numbers: Iterator[int] = field(init=False)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._numbers = itertools.count(self.first)

    def __enter__(self) -> Load:
        self._workers = [threading.Thread(target=self._run) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[Answer]:
        self._stopping.set()
        for worker in self._workers:
            worker.join(120)
            assert not worker.is_alive(), "a request of the load hangs"
        return self.answers

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.sent >= moment]

    def wait_for(self, count: int, status: int | None, since: float, seconds: float) -> None:
        """Until ``count`` requests sent after ``since`` got ``status``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if sum(1 for a in self.since(since) if a.status == status) >= count:
                return
            time.sleep(0.05)
        statuses = sorted({str(a.status) for a in self.since(since)})
        raise AssertionError(
            f"no {count} answers {status} within {seconds} s (answers: {', '.join(statuses)})"
        )

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.server.url, headers=headers, timeout=60) as client:
            while not self._stopping.is_set():
                with self._lock:
                    number = next(self._numbers)
                if number >= self.customers:
                    return
                self._ask(client, number)
                time.sleep(self.pause)

    def _ask(self, client: httpx.Client, number: int) -> None:
        target = f"/v1/customers/c-{number}/contacts"
        params = {"ticket": f"T-{number}", "reason": "customer_initiated_support"}
        sent = time.monotonic()
        try:
            response = client.get(target, params=params)
        except httpx.TransportError:
            answer = Answer(customer=number, sent=sent, answered=time.monotonic(), status=None)
        else:
            answer = Answer(
                customer=number,
                sent=sent,
                answered=time.monotonic(),
                status=response.status_code,
                body=_body(response),
                request_id=response.headers.get("X-Request-ID"),
            )
        with self._lock:
            self.answers.append(answer)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # not JSON: kept as text, and no check will take it for an answer
        return response.text


def assert_one_error_shape(answer: Answer) -> None:
    """A 503 in the one error shape, saying the store is unavailable."""
    assert answer.status == 503, answer
    assert answer.body == {
        "error": {"code": "unavailable", "message": UNAVAILABLE, "request_id": answer.request_id}
    }, answer


def allowed_customers(store: Store) -> list[str]:
    """The customers of every allowed access stored (one per answered request)."""
    query = select(t.accesses.c.customer).where(t.accesses.c.outcome == "allowed")
    with connect(store.engine) as conn:
        return [str(row[0]) for row in conn.execute(query)]


def assert_answers_recorded(store: Store, answers: Sequence[Answer]) -> None:
    """Every 200 has its allowed access stored (a 503 or a lost connection may have one
    too: recorded, then not answered, is allowed; the reverse is not)."""
    stored = allowed_customers(store)
    assert len(stored) == len(set(stored)), "an access stored twice"
    answered = {f"c-{a.customer}" for a in answers if a.status == 200}
    missing = sorted(answered - set(stored))
    assert not missing, f"answered without a stored access: {missing[:10]}"


def assert_ledger_verifies(store: Store) -> None:
    verifier = load_verifier(public_key_path(store.settings))
    with connect(store.engine) as conn:
        report = verify_ledger(conn, verifier)
    assert report.ok, report.problem
