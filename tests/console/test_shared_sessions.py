"""Console sessions live in the store: two processes (here two engines on one store, as
two ``vigile serve`` have) see the same sessions, and one closed on either is closed on
both at the next request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigile.console.accounts import ConsoleAccounts
from vigile.console.sessions import SessionBook
from vigile.model import Customer
from vigile.record import Recorder
from vigile.store import Store


def test_a_session_opened_on_one_process_is_known_and_closed_on_the_other(store: Store) -> None:
    Recorder(store).record([Customer(id="c-1", name="Example Shop", tier="smb")])
    accounts = ConsoleAccounts(store)
    accounts.add("cs-1", role="customer", subject="c-1", password="long enough password")
    account = accounts.get("cs-1")
    assert account is not None
    now = [datetime(2026, 12, 8, 3, 0, tzinfo=UTC)]
    with Store.open(store.settings) as other:  # another process's engine
        books = [
            SessionBook(
                opened,
                idle=timedelta(minutes=30),
                lifetime=timedelta(hours=8),
                clock=lambda: now[0],
            )
            for opened in (store, other)
        ]
        session = books[0].open(account, None)
        seen = books[1].get(session.id)
        assert seen is not None
        assert (seen.account.username, seen.csrf) == ("cs-1", session.csrf)
        books[1].close(session.id)
        assert books[0].get(session.id) is None
        idle = books[0].open(account, None)
        now[0] += timedelta(minutes=31)
        assert books[1].get(idle.id) is None  # idle on both
