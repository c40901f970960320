"""A process killed with SIGKILL in the middle of its work (``vigile ingest`` mid-file,
``vigile serve`` mid-request) loses no acknowledged entry and leaves a ledger that
verifies; running it again completes."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.conftest import SPEC_EXAMPLE
from tests.faults.serving import (
    Load,
    assert_answers_recorded,
    assert_ledger_verifies,
    organisation,
    serve,
    token_for,
)
from vigile.ingest import ingest_file
from vigile.ledger import load_verifier
from vigile.ledger.service import public_key_path
from vigile.ledger.sql import ledger_size
from vigile.ledger.verify_store import verify_ledger
from vigile.record import Recorder
from vigile.store import Store

LINES = 150_000  # several seconds of ingest: the kill lands in the middle
CUSTOMERS = 3_000  # one per request of the load on vigile serve


def big_log(path: Path) -> Path:
    line = orjson.loads(SPEC_EXAMPLE.read_text().splitlines()[-1])
    with path.open("wb") as out:
        for n in range(LINES):
            out.write(orjson.dumps(line | {"id": f"big-{n}"}) + b"\n")
    return path


def _wait_for_cpu(pid: int, seconds: float) -> None:
    """Until the process has used ``seconds`` of CPU: robust to a loaded machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= seconds:
            return
        time.sleep(0.05)
    pytest.fail("the ingest did not get going within a minute")


@pytest.mark.slow
def test_sigkill_during_ingest(store: Store, tmp_path: Path) -> None:
    ingest_file(store, SPEC_EXAMPLE)  # acknowledged before the crash
    before = store.counts()
    env = {
        **os.environ,
        "VIGILE_DB": store.settings.db,
        "VIGILE_LEDGER_KEY": store.settings.ledger_key,
        "VIGILE_INGEST_BATCH": "2000",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "vigile", "ingest", str(big_log(tmp_path / "big.jsonl"))],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_for_cpu(child.pid, seconds=2.0)  # imports done, well into the transaction
    child.send_signal(signal.SIGKILL)
    _, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, f"ingest ended before the kill: {errors!r}"

    after = store.counts()
    assert after == before  # one transaction: nothing of the killed ingest remains
    verifier = load_verifier(public_key_path(store.settings))
    with store.engine.connect() as conn:
        report = verify_ledger(conn, verifier)
        assert ledger_size(conn) == 4
    assert report.ok, report.problem

    rerun = subprocess.run(  # the same command again completes
        [sys.executable, "-m", "vigile", "ingest", str(tmp_path / "big.jsonl")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert store.counts()["accesses"] == before["accesses"] + LINES
    with store.engine.connect() as conn:
        report = verify_ledger(conn, verifier)
        assert ledger_size(conn) == 4 + LINES
    assert report.ok, report.problem


@pytest.mark.slow
def test_sigkill_of_serve_mid_request(store: Store, tmp_path: Path) -> None:
    """``vigile serve`` killed while requests are in flight: every request answered 200
    has its access stored, the ledger verifies, and a new ``vigile serve`` on the same
    store answers."""
    settings = dataclasses.replace(store.settings, broker_token_key=str(tmp_path / "broker.key"))
    Recorder(store).record(organisation(CUSTOMERS))
    token = token_for(settings)
    with (
        serve(settings, tmp_path / "serve.log") as server,
        Load(server, token, CUSTOMERS, threads=6, pause=0) as load,
    ):
        load.wait_for(50, 200, since=0, seconds=60)
        server.kill()
        killed = time.monotonic()
        answers = load.stop()
    assert {a.status for a in answers} <= {200, None}, sorted({str(a.status) for a in answers})
    in_flight = [a for a in answers if a.status is None and a.sent < killed]
    assert in_flight, "no request was in flight when the server was killed"
    assert_answers_recorded(store, answers)
    assert_ledger_verifies(store)

    first = max(a.customer for a in answers) + 1  # customers nobody has asked for yet
    with serve(settings, tmp_path / "serve-again.log") as server:
        with Load(server, token, CUSTOMERS, threads=2, first=first) as again:
            again.wait_for(20, 200, since=0, seconds=60)
        assert {a.status for a in again.answers} == {200}
    assert_answers_recorded(store, [*answers, *again.answers])
    assert_ledger_verifies(store)
