"""A process killed with SIGKILL in the middle of a long append loses no acknowledged
entry and leaves a ledger that verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.conftest import SPEC_EXAMPLE
from vigile.ingest import ingest_file
from vigile.ledger import load_verifier
from vigile.ledger.service import public_key_path
from vigile.ledger.sql import ledger_size
from vigile.ledger.verify_store import verify_ledger
from vigile.store import Store

LINES = 150_000  # several seconds of ingest: the kill lands in the middle


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
    ingest_file(store, SPEC_EXAMPLE)  # and the store takes writes again
