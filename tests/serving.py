"""``vigile serve`` in a subprocess, for the tests and benchmarks that need a real server:
the same interpreter and ``PYTHONPATH``, the store and keys of the given settings, a free
loopback port, and its output in a log file; ready to answer when the block starts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.mail.inbox import free_port
from vigile.settings import Settings

__all__ = ["Server", "serve", "serve_environment"]


@dataclass
class Server:
    """A running ``vigile serve``."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def peak_rss(self) -> int:
        """The process's peak resident memory so far (VmHWM), in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM in /proc")

    def connection(self) -> socket.socket:
        """A raw TCP connection to the server."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


def serve_environment(settings: Settings, env: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment of a ``vigile serve`` over the store of ``settings``, with ``env``
    (``VIGILE_*`` names) on top."""
    base = {
        **os.environ,
        "VIGILE_DB": settings.db,
        "VIGILE_LEDGER_KEY": settings.ledger_key,
        "VIGILE_BROKER_TOKEN_KEY": settings.broker_token_key,
    }
    if settings.checkpoint_file:
        base["VIGILE_CHECKPOINT_FILE"] = settings.checkpoint_file
    return {**base, **env}


@contextmanager
def serve(settings: Settings, log: Path, env: Mapping[str, str] = {}) -> Iterator[Server]:
    """``vigile serve`` on the store of ``settings``, ready to answer; stopped (or found
    killed) afterwards."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "vigile", "serve", "--port", str(port)],
            env=serve_environment(settings, env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process=process, port=port, log=log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        if server.alive():
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not server.alive():
            raise AssertionError(f"vigile serve ended at start:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"vigile serve did not answer within a minute:\n{server.log_text()}")
