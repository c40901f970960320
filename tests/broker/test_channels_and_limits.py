"""Notification channels (registry, log, webhook, email), velocity limits by team and by
reveals, and break-glass review events."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.broker.conftest import audits, principal
from tests.mail.inbox import free_port, smtp_inbox
from vigile.broker import CHANNELS, AccessDenied, Broker, Notice, Notifier, register_channel
from vigile.broker.notify import EmailChannel, WebhookChannel
from vigile.broker.velocity import Hold, Limits, Velocity, parse_team_limits
from vigile.errors import ConfigError
from vigile.settings import Settings
from vigile.store import Store

NOTICE = Notice(
    grant="grant-1",
    agent="a-1",
    customer="c-1",
    classes=("contact",),
    reason="agent_initiated_review",
    ticket=None,
    duration_s=600,
    lockbox=False,
)


def test_channels_are_registered_by_name() -> None:
    assert {"log", "webhook", "email"} <= set(CHANNELS)
    with pytest.raises(ConfigError, match="unknown channel 'pager'"):
        Notifier.from_settings(Settings(broker_notify="log,pager"))
    sent: list[Notice] = []

    class Pager:
        def __init__(self, settings: Settings) -> None:
            self.settings = settings

        def send(self, notice: Notice) -> None:
            sent.append(notice)

    register_channel("pager", Pager)
    try:
        Notifier.from_settings(Settings(broker_notify="pager")).notify(NOTICE)
    finally:
        del CHANNELS["pager"]
    assert sent == [NOTICE]


def test_the_log_channel_says_who_must_approve(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="vigile.broker.notify"):
        Notifier.from_settings(Settings()).notify(NOTICE)
    assert "grant-1" in caplog.text
    assert "a supervisor must approve" in caplog.text


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def test_the_webhook_channel_posts_json(webhook: tuple[str, list[dict[str, object]]]) -> None:
    url, received = webhook
    WebhookChannel(Settings(broker_webhook_url=url)).send(NOTICE)
    assert received[0]["event"] == "grant.requested"
    assert received[0]["grant"] == "grant-1"
    with pytest.raises(ConfigError):
        WebhookChannel(Settings(broker_webhook_url="file:///etc/passwd"))


def test_the_email_channel_writes_an_rfc5322_message() -> None:
    channel = EmailChannel(Settings(broker_notify_to="leads@example.test, sec@example.test"))
    parsed = message_from_bytes(channel.message(NOTICE).as_bytes())
    assert parsed["To"] == "leads@example.test, sec@example.test"
    assert "grant-1" in parsed["Subject"]
    assert "c-1" in parsed.get_payload()
    with pytest.raises(ConfigError):
        EmailChannel(Settings())


def test_the_email_channel_sends_through_the_broker_smtp_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with smtp_inbox() as (inbox, port):
        settings = Settings(
            broker_notify="email",
            broker_notify_to="leads@example.test",
            broker_smtp_host="127.0.0.1",
            broker_smtp_port=port,
        )
        Notifier.from_settings(settings).notify(NOTICE)
    [message] = inbox.messages
    assert "grant-1" in message["Subject"]
    assert "failed" not in caplog.text
    unreachable = dataclasses.replace(settings, broker_smtp_port=free_port())
    Notifier.from_settings(unreachable).notify(NOTICE)  # logged, never raised
    assert f"SMTP 127.0.0.1:{unreachable.broker_smtp_port} refused the message" in caplog.text


def test_a_failing_channel_does_not_fail_the_others(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[Notice] = []

    class Broken:
        def send(self, notice: Notice) -> None:
            raise OSError("unreachable")

    class Working:
        def send(self, notice: Notice) -> None:
            sent.append(notice)

    Notifier([Broken(), Working()]).notify(NOTICE)
    assert sent == [NOTICE]
    assert "unreachable" in caplog.text


def test_team_limits_parse_and_apply() -> None:
    teams = parse_team_limits("vip=2/1, bulk=100/50")
    assert teams["vip"] == Limits(customers=2, reveals=1)
    with pytest.raises(ConfigError):
        parse_team_limits("vip=two/1")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    velocity = Velocity(Limits(customers=10, reveals=10), teams)

    def check(team: str | None, customer: str, *, reveal: bool, at: datetime = now) -> str | None:
        held = velocity.reserve("a", team, customer, reveal=reveal, now=at, access="probe")
        if isinstance(held, str):
            return held
        velocity.settle(held, counted=False, now=at)
        return None

    def count(customer: str, *, reveal: bool) -> None:
        held = velocity.reserve("a", None, customer, reveal=reveal, now=now, access=customer)
        assert isinstance(held, Hold)
        velocity.settle(held, counted=True, now=now)

    count("c-1", reveal=True)
    assert check("vip", "c-1", reveal=True) == "reveals"
    assert check(None, "c-1", reveal=True) is None
    count("c-2", reveal=False)
    assert check("vip", "c-3", reveal=False) == "customers"
    later = now + timedelta(hours=1, seconds=1)
    assert check("vip", "c-3", reveal=True, at=later) is None


def test_reveals_per_hour_deny_with_a_breach_event(store: Store, broker_settings: Settings) -> None:
    from tests.broker.conftest import DIRECTORY, Clock  # noqa: PLC0415
    from vigile.record import Recorder  # noqa: PLC0415

    Recorder(store).record(DIRECTORY)
    limited = dataclasses.replace(broker_settings, broker_reveals_per_hour=1)
    broker = Broker(store, limited, clock=Clock(), notifier=Notifier([]))
    try:
        ask = {"object_id": "k-1", "ticket": "T-1", "reason": "customer_initiated_support"}
        broker.reveal(principal("a-1"), "c-1", field="contact.email", **ask)
        with pytest.raises(AccessDenied) as denied:
            broker.reveal(principal("a-1"), "c-1", field="contact.phone", **ask)
        assert "velocity-limit" in denied.value.policies
        assert audits(store, "velocity.breach")[0]["details"]["limit"] == "reveals"
        assert broker.containment.suspension_of("a-1") is None  # not configured to suspend
    finally:
        broker.close()


def test_break_glass_is_allowed_and_flagged_for_review(broker: Broker, store: Store) -> None:
    shown = broker.reveal(
        principal("a-3"),
        "c-1",
        object_id="k-1",
        field="contact.email",
        ticket=None,
        reason="break_glass",
    )
    assert shown.body["value"]
    [review] = audits(store, "break_glass.used")
    assert (review["subject"], review["customer"], review["details"]["review"]) == (
        "a-3",
        "c-1",
        "required",
    )
