"""The broker's held read connections: bounded, and a clear error when all stay busy."""

from __future__ import annotations

import threading
import time

import pytest

from vigile.broker.facts import FactReader
from vigile.errors import StoreError
from vigile.store import Store


def test_concurrent_readers_share_at_most_the_limit(store: Store) -> None:
    reader = FactReader(store.engine, lock_timeout=5.0, limit=2)
    inside, most = 0, 0
    count = threading.Lock()
    start = threading.Barrier(4)

    def read() -> None:
        nonlocal inside, most
        start.wait()
        for _ in range(3):
            with reader.reading() as facts:
                with count:
                    inside += 1
                    most = max(most, inside)
                facts.customer("c-1")
                time.sleep(0.05)  # long enough for the others to want a connection too
                with count:
                    inside -= 1

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 2  # four threads, never more than two reading at once
    assert len(reader._all) == 2  # the connections opened
    reader.close()


def test_a_reader_waits_for_a_busy_connection_then_names_the_limit(store: Store) -> None:
    reader = FactReader(store.engine, lock_timeout=0.2, limit=1)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with reader.reading():
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    busy = r"all 1 read connections stayed busy for 0\.2 s"
    with pytest.raises(StoreError, match=busy), reader.reading():
        pass
    release.set()
    holder.join()
    with reader.reading() as facts:  # freed: the next reader gets it
        assert facts.customer("nobody") is None
    reader.close()
