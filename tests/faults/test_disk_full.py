"""The disk under the store fills: during ``vigile ingest`` and while the broker records.

The store lives on a small tmpfs made for the test (root only; skipped otherwise). A full
disk must give a clear error naming it, leave nothing half-written (the counts, the
ledger, the published checkpoint as they were), and the service must take writes again
as soon as space returns, without a restart.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson
import pytest

from tests.conftest import SPEC_EXAMPLE
from tests.faults.serving import (
    AGENT,
    Load,
    allowed_customers,
    assert_answers_recorded,
    assert_ledger_verifies,
    assert_one_error_shape,
    organisation,
    serve,
    token_for,
)
from vigile.broker import Broker, Notifier, Principal
from vigile.ingest import ingest_file
from vigile.ledger import load_verifier
from vigile.ledger.service import public_key_path
from vigile.ledger.verify_store import verify_ledger
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store
from vigile.store.engine import connect

pytestmark = pytest.mark.slow

LINES = 30_000  # about 9 MB of log: some 15 MB of store, more than the small disk holds
STORE_FILES = {"vigile.db", "vigile.db-wal", "vigile.db-shm", "checkpoint"}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem (tmpfs) needs root")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def _resize(disk: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)


def _fill(disk: Path) -> Path:
    """A file taking every free byte of ``disk``."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for chunk in (b"\0" * 65536, b"\0" * 512):  # then what a large chunk did not take
            with pytest.raises(OSError, match="No space left on device"):
                _write_forever(out, chunk)
    return filler


def _write_forever(out: BinaryIO, chunk: bytes) -> None:
    while True:
        out.write(chunk)


def _settings(disk: Path, tmp_path: Path) -> Settings:
    keys = tmp_path / "keys"
    keys.mkdir(exist_ok=True)
    return Settings(
        db=str(disk / "vigile.db"),
        ledger_key=str(keys / "ledger.key"),
        broker_token_key=str(keys / "broker.key"),
        checkpoint_file=str(disk / "checkpoint"),  # published next to the store
    )


def _big_log(path: Path) -> Path:
    line = orjson.loads(SPEC_EXAMPLE.read_text().splitlines()[-1])
    with path.open("wb") as out:
        for n in range(LINES):
            out.write(orjson.dumps(line | {"id": f"big-{n}"}) + b"\n")
    return path


def _vigile_ingest(settings: Settings, log: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VIGILE_DB": settings.db,
        "VIGILE_LEDGER_KEY": settings.ledger_key,
        "VIGILE_CHECKPOINT_FILE": settings.checkpoint_file,
    }
    return subprocess.run(
        [sys.executable, "-m", "vigile", "ingest", str(log)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_disk_fills_during_ingest(small_disk: Path, tmp_path: Path) -> None:
    settings = _settings(small_disk, tmp_path)
    log = _big_log(tmp_path / "big.jsonl")
    with Store.open(settings, create=True) as store:
        ingest_file(store, SPEC_EXAMPLE)  # acknowledged before the disk fills
        before = store.counts()
    published = Path(settings.checkpoint_file).read_text()

    failed = _vigile_ingest(settings, log)

    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    assert "vigile.db: database or disk is full" in failed.stderr, failed.stderr
    with Store.open(settings) as store:
        assert store.counts() == before  # nothing of the failed file
        assert_ledger_verifies(store)
    assert Path(settings.checkpoint_file).read_text() == published
    assert {p.name for p in small_disk.iterdir()} <= STORE_FILES  # no stray temporary file

    _resize(small_disk, "64m")  # space returns
    done = _vigile_ingest(settings, log)

    assert done.returncode == 0, done.stderr
    with Store.open(settings) as store:
        assert store.counts()["accesses"] == before["accesses"] + LINES
        assert_ledger_verifies(store)
    assert Path(settings.checkpoint_file).read_text() != published


def test_disk_fills_while_the_broker_records(small_disk: Path, tmp_path: Path) -> None:
    _resize(small_disk, "16m")
    settings = _settings(small_disk, tmp_path)
    customers = 3_000
    with Store.open(settings, create=True) as store:
        Recorder(store).record(organisation(customers))
    # A checkpoint signed every second: publishing it meets the full disk too.
    with (
        serve(settings, tmp_path / "serve.log", VIGILE_CHECKPOINT_SECONDS="1") as server,
        Load(server, token_for(settings), customers, threads=2, pause=0.005) as load,
    ):
        load.wait_for(20, 200, since=0, seconds=60)
        filled = time.monotonic()
        filler = _fill(small_disk)
        load.wait_for(20, 503, since=filled, seconds=120)
        freed = time.monotonic()
        filler.unlink()  # space returns
        load.wait_for(20, 200, since=freed + 0.5, seconds=60)
        answers = load.stop()
        assert server.alive()  # the same process throughout: no restart
        log = server.log_text()

    assert {a.status for a in answers} <= {200, 503}, sorted({str(a.status) for a in answers})
    for answer in answers:
        if answer.status == 503:
            assert_one_error_shape(answer)
    assert "database or disk is full" in log  # the operator's log names the cause
    with Store.open(settings) as store:
        assert_answers_recorded(store, answers)
        assert_ledger_verifies(store)
    assert {p.name for p in small_disk.iterdir()} <= STORE_FILES


def test_a_full_disk_under_the_published_checkpoint(
    small_disk: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The store has room but the published checkpoint's disk has none: what is recorded
    is acknowledged (an ingest returns, the broker answers), the failure is logged, the
    file published before stays whole with no temporary file beside it, and the latest
    checkpoint is published once space returns."""
    settings = dataclasses.replace(
        _settings(small_disk, tmp_path), db=str(tmp_path / "vigile.db"), checkpoint_every=1
    )
    published = Path(settings.checkpoint_file)
    with Store.open(settings, create=True) as store:
        Recorder(store).record(organisation(3))
        ingest_file(store, SPEC_EXAMPLE)
        before = published.read_text()
        filler = _fill(small_disk)

        summary = ingest_file(store, _small_log(tmp_path / "more.jsonl"))
        broker = Broker(store, settings, notifier=Notifier([]))
        try:
            shown = broker.view_list(
                _agent(), "c-1", "contacts", ticket="T-1", reason="customer_initiated_support"
            )
            assert shown  # answered: its access is recorded, publication aside
            assert summary.events_stored == 10
            assert "c-1" in allowed_customers(store)
            assert published.read_text() == before
            assert {p.name for p in small_disk.iterdir()} == {"checkpoint", "filler"}
            failures = [r for r in caplog.records if "cannot publish" in r.getMessage()]
            assert len(failures) == 2, caplog.text
            assert "No space left on device" in failures[0].getMessage()

            filler.unlink()  # space returns: the next commit publishes the latest
            broker.view_list(
                _agent(), "c-2", "contacts", ticket="T-2", reason="customer_initiated_support"
            )
        finally:
            broker.close()
        assert published.read_text() != before
        with connect(store.engine) as conn:
            report = verify_ledger(
                conn, load_verifier(public_key_path(settings)), published=[published.read_text()]
            )
        assert report.ok, report.problem
        assert report.published == 1


def _small_log(path: Path) -> Path:
    line = orjson.loads(SPEC_EXAMPLE.read_text().splitlines()[-1])
    path.write_bytes(b"".join(orjson.dumps(line | {"id": f"more-{n}"}) + b"\n" for n in range(10)))
    return path


def _agent() -> Principal:
    return Principal(
        agent=AGENT, session="s-1", roles=frozenset({"agent"}), mfa="totp", ip="127.0.0.1"
    )
