"""Telling approvers about grant requests, through channels registered by name.

A channel is anything with ``send(notice)``. The built-in ones (``log``, ``webhook``,
``email``) are registered in :data:`CHANNELS` exactly as a user's own would be, with
:func:`register_channel`. A notice carries ids, field classes and the reason code,
never a data value. A channel that fails is logged and never fails the request: the
grant request is already in the ledger, and approvers can list pending grants.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Protocol

from vigile.errors import ConfigError
from vigile.mail import SmtpServer
from vigile.settings import Settings

__all__ = [
    "CHANNELS",
    "Channel",
    "EmailChannel",
    "LogChannel",
    "Notice",
    "Notifier",
    "WebhookChannel",
    "register_channel",
]

_log = logging.getLogger("vigile.broker.notify")


@dataclass(frozen=True, kw_only=True, slots=True)
class Notice:
    """A grant request for approvers to act on."""

    grant: str
    agent: str
    customer: str
    classes: tuple[str, ...]
    reason: str
    ticket: str | None
    duration_s: int
    lockbox: bool

    @property
    def summary(self) -> str:
        who = "the customer's approver" if self.lockbox else "a supervisor"
        return (
            f"grant {self.grant}: agent {self.agent} asks for {', '.join(self.classes)} of "
            f"customer {self.customer} for {self.duration_s} s ({self.reason}, ticket "
            f"{self.ticket or 'none'}); {who} must approve"
        )


class Channel(Protocol):
    """Delivers a notice somewhere; raising means it was not delivered."""

    def send(self, notice: Notice) -> None: ...


class LogChannel:
    """Writes the notice to the ``vigile.broker.notify`` log."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, notice: Notice) -> None:
        _log.warning("approval needed: %s", notice.summary)


class WebhookChannel:
    """POSTs the notice as JSON to ``VIGILE_BROKER_WEBHOOK_URL``."""

    def __init__(self, settings: Settings) -> None:
        if not settings.broker_webhook_url.startswith(("https://", "http://")):
            raise ConfigError("VIGILE_BROKER_WEBHOOK_URL: the webhook channel needs an http(s) URL")
        self.url = settings.broker_webhook_url

    def send(self, notice: Notice) -> None:
        body = json.dumps({"event": "grant.requested", **asdict(notice)}).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            response.read()


class EmailChannel:
    """Sends an RFC 5322 message to ``VIGILE_BROKER_NOTIFY_TO`` over SMTP."""

    def __init__(self, settings: Settings) -> None:
        self.to = [a.strip() for a in settings.broker_notify_to.split(",") if a.strip()]
        if not self.to:
            raise ConfigError("VIGILE_BROKER_NOTIFY_TO: the email channel needs recipients")
        self.settings = settings
        self.server = SmtpServer(
            host=settings.broker_smtp_host, port=settings.broker_smtp_port, timeout=5
        )

    def message(self, notice: Notice) -> EmailMessage:
        """The message the channel sends."""
        message = EmailMessage()
        message["From"] = self.settings.broker_notify_from
        message["To"] = ", ".join(self.to)
        message["Subject"] = f"[Vigile] grant {notice.grant} waits for approval"
        message.set_content(notice.summary + "\n")
        return message

    def send(self, notice: Notice) -> None:
        self.server.send(self.message(notice))


#: Channels by name; each factory takes the settings.
CHANNELS: dict[str, Callable[[Settings], Channel]] = {
    "log": LogChannel,
    "webhook": WebhookChannel,
    "email": EmailChannel,
}


def register_channel(name: str, factory: Callable[[Settings], Channel]) -> None:
    """Make a channel available to ``VIGILE_BROKER_NOTIFY`` under ``name``."""
    CHANNELS[name] = factory


class Notifier:
    """Sends every notice through the configured channels."""

    def __init__(self, channels: list[Channel]) -> None:
        self.channels = channels

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        names = [n.strip() for n in settings.broker_notify.split(",") if n.strip()]
        unknown = [n for n in names if n not in CHANNELS]
        if unknown:
            raise ConfigError(
                f"VIGILE_BROKER_NOTIFY: unknown channel {unknown[0]!r} "
                f"(known: {', '.join(sorted(CHANNELS))})"
            )
        return cls([CHANNELS[name](settings) for name in names])

    def notify(self, notice: Notice) -> None:
        for channel in self.channels:
            try:
                channel.send(notice)
            except Exception as exc:
                _log.error(
                    "channel %s failed for grant %s: %s", type(channel).__name__, notice.grant, exc
                )
