"""PostgreSQL stopped and started again under the broker's load.

The test runs a PostgreSQL cluster of its own (initdb into a temporary folder, run as the
``postgres`` user, so root only) and stops it, cleanly and as a crash: never the server
other tests share. While it is down every request gets a 503 in the one error shape;
once it is back the same ``vigile serve`` process answers again; every request answered
200 has its access stored, and the ledger verifies.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.serving import (
    Load,
    assert_answers_recorded,
    assert_ledger_verifies,
    assert_one_error_shape,
    organisation,
    serve,
    token_for,
)
from tests.mail.inbox import free_port
from vigile.record import Recorder
from vigile.settings import Settings
from vigile.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CUSTOMERS = 5_000


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster in ``folder``, run by the ``postgres`` user."""

    bin: Path
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-w", *args],
            user="postgres",
            cwd=self.folder,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self.pg_ctl("-l", str(self.folder / "server.log"), "-o", options, "start")

    def stop(self, mode: str) -> None:
        self.pg_ctl("-m", mode, "stop")


def _server_binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    binaries = _server_binaries()
    if binaries is None:
        if os.environ.get("VIGILE_REQUIRE_PG") == "1":
            pytest.fail("VIGILE_REQUIRE_PG=1 but no PostgreSQL server in /usr/lib/postgresql")
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    if os.geteuid() != 0:
        pytest.skip("a PostgreSQL cluster of the test's own runs as the postgres user: root only")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user to run a cluster as")
    # Not under pytest's folder: the postgres user cannot enter root's.
    folder = Path(tempfile.mkdtemp(prefix="vigile-pg-"))
    os.chown(folder, owner.pw_uid, owner.pw_gid)
    cluster = Cluster(bin=binaries, folder=folder, port=free_port())
    try:
        subprocess.run(
            [str(binaries / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres"],
            user="postgres",
            cwd=folder,
            check=True,
            capture_output=True,
            timeout=300,
        )
        cluster.start()
        yield cluster
    finally:
        subprocess.run(
            [str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"],
            user="postgres",
            cwd=folder,
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


# fast: sessions terminated, a clean shutdown; immediate: as a crash, recovered at start.
@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_stopped_and_started_under_load(
    cluster: Cluster, mode: str, tmp_path: Path
) -> None:
    settings = Settings(
        db=cluster.url,
        ledger_key=str(tmp_path / "ledger.key"),
        broker_token_key=str(tmp_path / "broker.key"),
    )
    with Store.open(settings, create=True) as store:
        Recorder(store).record(organisation(CUSTOMERS))
    with (
        serve(settings, tmp_path / "serve.log") as server,
        Load(server, token_for(settings), CUSTOMERS, threads=4, pause=0.02) as load,
    ):
        load.wait_for(30, 200, since=0, seconds=60)
        cluster.stop(mode)
        stopped = time.monotonic()
        load.wait_for(30, 503, since=stopped, seconds=60)
        restarting = time.monotonic()
        cluster.start()
        started = time.monotonic()
        load.wait_for(30, 200, since=started, seconds=60)
        answers = load.stop()
        assert server.alive()  # recovered without a restart
        log = server.log_text()

    assert {a.status for a in answers} <= {200, 503}, sorted({str(a.status) for a in answers})
    during = [a for a in answers if a.sent >= stopped and a.answered <= restarting]
    assert during
    assert all(a.status == 503 for a in during)  # nothing answered while nothing is stored
    for answer in answers:
        if answer.status == 503:
            assert_one_error_shape(answer)
    assert "cannot connect" in log  # the operator's log says why
    with Store.open(settings) as store:
        assert_answers_recorded(store, answers)
        assert_ledger_verifies(store)
