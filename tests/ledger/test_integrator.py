"""The integrator apart from the requests: leaves stored with their events, the tree
extended afterwards, promises of inclusion, and real ``vigile ledger integrate``
processes (killed mid-batch, a second one standing by)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vigile.ledger import load_verifier, verify_inclusion
from vigile.ledger.compact import inclusion_proof
from vigile.ledger.errors import CheckpointError, SigningKeyError
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.note import Signer
from vigile.ledger.promise import Promise, open_promise, sign_promise
from vigile.ledger.service import Ledger, public_key_path
from vigile.ledger.sql import SqlNodes, event_leaf, ledger_size
from vigile.ledger.verify_store import verify_ledger
from vigile.model import Access, Action
from vigile.record import Recorder
from vigile.store import Store

T0 = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def accesses(first: int, count: int) -> list[Access]:
    return [
        Access(
            id=f"x-{n}",
            time=T0 + timedelta(seconds=n),
            agent="a-1",
            session="s-1",
            action=Action.CUSTOMER_VIEW,
            outcome="allowed",
            customer=f"c-{n % 7}",
            ip="192.0.2.1",
        )
        for n in range(first, first + count)
    ]


def queue_only(store: Store, first: int, count: int, *, chunk: int = 5_000) -> None:
    """Store events as the broker does at scale: leaves queued, no tree work."""
    recorder = Recorder(store, integrate=False)
    for start in range(first, first + count, chunk):
        recorder.record(accesses(start, min(chunk, first + count - start)))


def sizes(store: Store) -> tuple[int, int]:
    state = Ledger(store.engine, store.settings).status()
    return state.stored, state.integrated


# -- the promise, byte for byte ----------------------------------------------------------


def test_a_promise_is_the_log_keys_signature_over_the_documented_bytes(store: Store) -> None:
    """Checked with the Ed25519 library over the text written here from the docstring
    of vigile.ledger.promise, not with the project's note code."""
    recorded = Recorder(store, integrate=False).record(accesses(0, 3))
    leaf = recorded.leaves["x-2"]
    ledger = Ledger(store.engine, store.settings)
    note = ledger.promise(leaf)
    stored_at = datetime.fromtimestamp(leaf.time_us / 1e6, UTC)
    expected_text = (
        f"{store.settings.ledger_origin}\n"
        "vigile-inclusion-promise/v1\n"
        "2\n"
        f"{base64.b64encode(leaf.hash).decode()}\n"
        f"{stored_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}\n"
    )
    text, _, signature_line = note.rpartition("\n\N{EM DASH} ")
    assert text + "\n" == expected_text + "\n"
    name, blob = signature_line.strip().split(" ")
    assert name == store.settings.ledger_origin
    raw = base64.b64decode(blob)
    vkey = load_verifier(public_key_path(store.settings))
    assert raw[:4] == vkey.key_id
    Ed25519PublicKey.from_public_bytes(vkey.public_key).verify(raw[4:], expected_text.encode())
    # and the leaf hash is that of the stored event's leaf bytes
    with store.engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT * FROM accesses WHERE id = 'x-2'").one()
    assert leaf.hash == leaf_hash(event_leaf("accesses", tuple(row)))


def test_a_promise_of_another_key_or_altered_is_refused(store: Store, tmp_path: Path) -> None:
    recorded = Recorder(store, integrate=False).record(accesses(0, 1))
    ledger = Ledger(store.engine, store.settings)
    note = ledger.promise(recorded.leaves["x-0"])
    verifier = load_verifier(public_key_path(store.settings))
    assert open_promise(note, verifier).index == 0
    with pytest.raises(CheckpointError):
        open_promise(note.replace("\n0\n", "\n1\n", 1), verifier)
    checkpoint = ledger.checkpoint().note
    with pytest.raises(CheckpointError, match="not an inclusion promise"):
        open_promise(checkpoint, verifier)  # a checkpoint is never a promise


def test_promise_text_round_trips() -> None:
    promise = Promise(origin="o.example/log", index=7, leaf_hash=bytes(32), time=T0)
    assert promise.text() == (
        "o.example/log\nvigile-inclusion-promise/v1\n7\n"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n2026-12-08T02:00:00.000000Z\n"
    )
    signer = Signer.generate("o.example/log")
    assert open_promise(sign_promise(promise, signer), signer.verifier) == promise


# -- integration -------------------------------------------------------------------------


def test_stored_events_wait_for_the_integrator_and_verify_meanwhile(store: Store) -> None:
    ledger = Ledger(store.engine, store.settings)
    ledger.checkpoint()  # the empty tree's, and the key
    verifier = ledger.verifier()
    queue_only(store, 0, 30)
    assert sizes(store) == (30, 0)
    with store.engine.connect() as conn:
        report = verify_ledger(conn, verifier)
    assert report.ok, report.problem
    assert (report.entries, report.pending) == (0, 30)
    status = ledger.status()
    assert status.pending == 30
    assert status.oldest_wait is not None
    done = ledger.integrate()
    assert sum(batch.entries for batch in done) == 30
    assert sizes(store) == (30, 30)
    with store.engine.connect() as conn:
        report = verify_ledger(conn, verifier)
    assert report.ok
    assert (report.entries, report.pending) == (30, 0)
    assert ledger.integrate() == []  # nothing twice


def test_every_promise_is_honoured_by_an_inclusion_proof(store: Store) -> None:
    recorder = Recorder(store, integrate=False)
    ledger = Ledger(store.engine, store.settings)
    promises = []
    for start in range(0, 40, 8):
        recorded = recorder.record(accesses(start, 8))
        promises += [ledger.promise(leaf) for leaf in recorded.leaves.values()]
    checkpoint = ledger.checkpoint()  # integrates first
    verifier = ledger.verifier()
    with store.engine.connect() as conn:
        nodes = SqlNodes(conn)
        for note in promises:
            promise = open_promise(note, verifier, origin=store.settings.ledger_origin)
            proof = inclusion_proof(nodes, promise.index, checkpoint.size)
            verify_inclusion(
                promise.leaf_hash, promise.index, checkpoint.size, proof, checkpoint.root
            )


def test_integration_goes_in_batches_and_measures_the_wait(store: Store) -> None:
    small = Store(store.engine, replace(store.settings, integration_batch=7))
    queue_only(small, 0, 30)
    ledger = Ledger(small.engine, small.settings)
    done = ledger.integrate()
    assert [batch.entries for batch in done] == [7, 7, 7, 7, 2]
    assert [batch.first for batch in done] == [0, 7, 14, 21, 28]
    assert ledger.integrator.delays.entries == 30
    p99 = ledger.integrator.delays.percentile(0.99)
    assert p99 is not None
    assert 0 <= p99 < 60


# -- real processes ----------------------------------------------------------------------


def _env(store: Store, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "VIGILE_DB": store.settings.db,
        "VIGILE_LEDGER_KEY": store.settings.ledger_key,
        "VIGILE_INTEGRATOR": "external",
        **extra,
    }


def _integrator(store: Store, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vigile", "ledger", "integrate"],
            env=_env(store, **extra),
            stdout=subprocess.DEVNULL,
            stderr=out,
        )


def _wait(condition: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    pytest.fail("condition not met in time")


@pytest.mark.slow
def test_sigkill_of_the_integrator_mid_batch_loses_nothing_and_doubles_nothing(
    store: Store, tmp_path: Path
) -> None:
    Ledger(store.engine, store.settings).checkpoint()  # the key, before the child needs it
    queue_only(store, 0, 20_000)
    child = _integrator(store, tmp_path / "integrator.log", VIGILE_INTEGRATION_BATCH="300")
    _wait(lambda: sizes(store)[1] > 1_500)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    stored, integrated = sizes(store)
    assert 0 < integrated < stored == 20_000, "killed before it finished"
    assert integrated % 300 == 0  # whole batches only: the open one rolled back
    rerun = subprocess.run(
        [sys.executable, "-m", "vigile", "ledger", "integrate", "--once", "--format", "json"],
        env=_env(store),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert sizes(store) == (20_000, 20_000)
    verifier = Ledger(store.engine, store.settings).verifier()
    with store.engine.connect() as conn:
        report = verify_ledger(conn, verifier)
        assert ledger_size(conn) == 20_000
    assert report.ok, report.problem
    assert report.entries == 20_000


@pytest.mark.slow
def test_a_second_integrator_stands_by_and_takes_over(store: Store, tmp_path: Path) -> None:
    Ledger(store.engine, store.settings).checkpoint()
    first = _integrator(store, tmp_path / "first.log")
    queue_only(store, 0, 10)
    _wait(lambda: sizes(store) == (10, 10))
    second_log = tmp_path / "second.log"
    second = _integrator(store, second_log)
    try:
        _wait(lambda: "standing by" in second_log.read_text())
        assert "another" in second_log.read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        queue_only(store, 10, 10)
        _wait(lambda: sizes(store) == (20, 20))  # the standby took over
        assert second.poll() is None
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    verifier = Ledger(store.engine, store.settings).verifier()
    with store.engine.connect() as conn:
        assert verify_ledger(conn, verifier).ok


def test_a_broker_process_at_scale_never_makes_its_own_key(store: Store) -> None:
    external = replace(store.settings, integrator="external")
    ledger = Ledger(store.engine, external)
    with pytest.raises(SigningKeyError, match="every broker process needs the integrator's key"):
        ledger.require_signer()
    assert not Path(external.ledger_key).exists()
    Ledger(store.engine, store.settings).checkpoint()  # the integrator's side creates it
    assert ledger.require_signer().name == external.ledger_origin
