"""Two ``vigile serve`` processes and one ``vigile ledger integrate`` on one store behave
as one broker: every answered request's event stored and integrated exactly once, in one
order, every promise checking against the public key and honoured by an inclusion
proof; a suspension made through one process refuses the agent at the other's next
request."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.faults.serving import AGENT, organisation, serve, token_for
from tests.mail.inbox import free_port
from tests.serving import Server, serve_environment
from vigile.broker import LocalTokens
from vigile.ledger import verify_inclusion
from vigile.ledger.compact import inclusion_proof
from vigile.ledger.promise import open_promise
from vigile.ledger.service import Ledger
from vigile.ledger.sql import SqlNodes
from vigile.ledger.verify_store import verify_ledger
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store

CUSTOMERS = 400
EXTERNAL = {"VIGILE_INTEGRATOR": "external", "VIGILE_INTEGRATION_DELAY": "0.2"}


@contextmanager
def integrator(settings: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "vigile", "ledger", "integrate"],
            env=serve_environment(settings, EXTERNAL),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)


def _load(servers: list[Server], token: str, answers: list[tuple[int, str, str]]) -> None:
    """Every customer once, the requests spread over both servers by four threads."""
    numbers = iter(range(CUSTOMERS))
    lock = threading.Lock()

    def run(server: Server) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                response = client.get(
                    f"/v1/customers/c-{number}/contacts",
                    params={"ticket": f"T-{number}", "reason": "customer_initiated_support"},
                )
                assert response.status_code == 200, response.text
                with lock:
                    answers.append(
                        (
                            number,
                            response.headers["Vigile-Event"],
                            response.headers["Vigile-Inclusion-Promise"],
                        )
                    )

    threads = [threading.Thread(target=run, args=(servers[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)


@pytest.fixture
def settings_of(store: Store, tmp_path: Path) -> Settings:
    settings = dataclasses.replace(store.settings, broker_token_key=str(tmp_path / "broker.key"))
    Recorder(store).record(organisation(CUSTOMERS))
    Ledger(store.engine, settings).checkpoint()  # the key exists before the processes start
    return settings


@pytest.mark.slow
def test_two_brokers_and_an_integrator_answer_as_one(
    store: Store, settings_of: Settings, tmp_path: Path
) -> None:
    settings = settings_of
    token = token_for(settings)
    answers: list[tuple[int, str, str]] = []
    with (
        serve(settings, tmp_path / "a.log", **EXTERNAL) as first,
        serve(settings, tmp_path / "b.log", **EXTERNAL) as second,
        integrator(settings, tmp_path / "integrator.log"),
    ):
        deadline = time.monotonic() + 120
        while "integrating" not in (tmp_path / "integrator.log").read_text():
            assert time.monotonic() < deadline, "the integrator did not start"
            time.sleep(0.1)
        _load([first, second], token, answers)
        ledger = Ledger(store.engine, settings)
        deadline = time.monotonic() + 60
        while ledger.status().pending and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ledger.status().pending == 0, "the integrator did not catch up"
        health = httpx.get(f"{first.url}/health").json()["ledger"]
        assert (health["pending"], health["lagging"]) == (0, False)
    assert len(answers) == CUSTOMERS
    waits = [
        float(line.split("longest wait ")[1].split(" s")[0])
        for line in (tmp_path / "integrator.log").read_text().splitlines()
        if "longest wait" in line
    ]
    assert waits, "the integrator reported no batch"
    waits.sort()
    print(
        f"\nintegration waits under the load: {len(waits)} batches, longest wait per batch: "
        f"median {waits[len(waits) // 2]:.3f} s, p99 {waits[int(len(waits) * 0.99)]:.3f} s, "
        f"max {waits[-1]:.3f} s"
    )
    assert waits[-1] < 10  # bounded on a loaded machine (the goal is 1 s at p99)
    events = [event for _, event, _ in answers]
    assert len(set(events)) == CUSTOMERS
    checkpoint = ledger.checkpoint()
    verifier = ledger.verifier()
    with store.engine.connect() as conn:
        report = verify_ledger(conn, verifier)
        assert report.ok, report.problem
        assert report.pending == 0
        seqs = dict(
            conn.exec_driver_sql(  # every answered event stored once, numbered once
                "SELECT id, seq FROM accesses WHERE agent = '" + AGENT + "'"
            ).all()
        )
        nodes = SqlNodes(conn)
        indices = set()
        for _, event, promise_b64 in answers:
            promise = open_promise(base64.b64decode(promise_b64).decode(), verifier)
            assert promise.index == seqs[event]
            indices.add(promise.index)
            proof = inclusion_proof(nodes, promise.index, checkpoint.size)
            verify_inclusion(
                promise.leaf_hash, promise.index, checkpoint.size, proof, checkpoint.root
            )
    assert len(indices) == CUSTOMERS


@pytest.mark.slow
def test_a_suspension_through_one_process_refuses_at_the_other(
    store: Store, settings_of: Settings, tmp_path: Path
) -> None:
    settings = settings_of
    agent = {"Authorization": f"Bearer {token_for(settings)}"}
    analyst_token = LocalTokens(settings).issue(
        "an-1", roles=frozenset({"analyst"}), mfa="totp", now=datetime.now(UTC)
    )
    ask = {"ticket": "T-1", "reason": "customer_initiated_support"}
    with (
        serve(settings, tmp_path / "a.log", **EXTERNAL) as first,
        serve(settings, tmp_path / "b.log", **EXTERNAL) as second,
    ):
        for server in (first, second):
            answer = httpx.get(f"{server.url}/v1/customers/c-1/contacts", params=ask, headers=agent)
            assert answer.status_code == 200, answer.text
        suspended = httpx.post(
            f"{first.url}/v1/agents/{AGENT}/suspend",
            json={"reason": "insider alert"},
            headers={"Authorization": f"Bearer {analyst_token}"},
        )
        assert suspended.status_code == 200, suspended.text
        refused = httpx.get(f"{second.url}/v1/customers/c-1/contacts", params=ask, headers=agent)
        assert refused.status_code == 401, refused.text
        assert "revoked" in refused.json()["error"]["message"]


@pytest.mark.slow
def test_serve_with_two_workers_answers_as_one_broker(
    store: Store, settings_of: Settings, tmp_path: Path
) -> None:
    """``vigile serve --workers 2``: two processes on one port (the log shows both start),
    every answer recorded and promised, the ledger whole afterwards."""
    settings = settings_of
    port = free_port()
    log = tmp_path / "workers.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "vigile", "serve", "--port", str(port), "--workers", "2"],
            env=serve_environment(settings, {"VIGILE_BROKER_CUSTOMERS_PER_HOUR": "100000"}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process=process, port=port, log=log)
    answers: list[tuple[int, str, str]] = []
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        _load([server, server], token_for(settings), answers)
    finally:
        process.terminate()
        process.wait(30)
    assert len(answers) == CUSTOMERS
    ledger = Ledger(store.engine, settings)
    ledger.checkpoint()
    with store.engine.connect() as conn:
        report = verify_ledger(conn, ledger.verifier())
    assert report.ok, report.problem
    assert report.pending == 0


@pytest.mark.slow
def test_a_ticket_step_through_one_process_decides_the_next_request_on_the_other(
    store: Store, settings_of: Settings, tmp_path: Path
) -> None:
    """Nothing a decision reads is cached: the ticket reassigned through one process's
    integration endpoint denies the agent at its very next request on the other."""
    settings = settings_of
    agent = {"Authorization": f"Bearer {token_for(settings)}"}
    secret = "integration-secret-for-the-test"
    env = {
        **EXTERNAL,
        "VIGILE_BROKER_INTEGRATION_TOKEN": hashlib.sha256(secret.encode()).hexdigest(),
    }
    ask = {"ticket": "T-2", "reason": "customer_initiated_support"}
    with (
        serve(settings, tmp_path / "a.log", **env) as first,
        serve(settings, tmp_path / "b.log", **env) as second,
    ):
        answer = httpx.get(f"{second.url}/v1/customers/c-2/contacts", params=ask, headers=agent)
        assert answer.status_code == 200, answer.text
        step = {
            "kind": "ticket",
            "time": datetime.now(UTC).isoformat(),
            "ticket": "T-2",
            "event": "assigned",
            "agent": "a-someone-else",
        }
        sent = httpx.post(
            f"{first.url}/v1/integrations/tickets",
            json=[step],
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert sent.status_code == 200, sent.text
        refused = httpx.get(f"{second.url}/v1/customers/c-2/contacts", params=ask, headers=agent)
        assert refused.status_code == 403, refused.text
