"""Delivery channels of notifications, registered by name.

A channel delivers one rendered message and returns a receipt (a path, a server reply).
The built-in channels use the same interface a user's would: ``outbox`` writes the
message as an ``.eml`` file, ``smtp`` sends it through ``VIGILE_SMTP_HOST`` (and is
skipped while no server is configured). ``VIGILE_NOTIFY_CHANNELS`` picks them, in order.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from vigile.errors import ConfigError
from vigile.mail import MailNotSent, SmtpServer
from vigile.respond.errors import DeliveryError
from vigile.settings import Settings

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelFactory",
    "OutboxChannel",
    "SmtpChannel",
    "channels_for",
    "eml_path",
    "register_channel",
    "write_eml",
]


class Channel(Protocol):
    """Delivers a notification; returns a receipt for the incident's timeline."""

    name: str

    def deliver(self, message: EmailMessage, *, incident: str, customer: str) -> str: ...


#: Builds a channel from the settings, or None when it is not configured.
ChannelFactory = Callable[[Settings], Channel | None]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def eml_path(folder: Path, incident: str, customer: str) -> Path:
    """``folder/INCIDENT/CUSTOMER.eml``, ids reduced to safe file names: they come from
    activity logs, and a ``../`` in one must not write outside the outbox."""
    return folder / _safe(incident) / f"{_safe(customer)}.eml"


def _safe(name: str) -> str:
    cleaned = _UNSAFE.sub("_", name).lstrip(".")
    return cleaned or "_"


def write_eml(message: EmailMessage, path: Path) -> Path:
    """Write ``message`` to ``path`` atomically (a reader never sees half a message)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(message.as_bytes())
        os.chmod(tmp, 0o600)  # it holds customer data
        os.replace(tmp, path)
    except OSError as exc:
        raise DeliveryError(f"{path}: cannot write the notification: {exc.strerror}") from exc
    return path


class OutboxChannel:
    """Writes sent notifications to ``OUTBOX/sent/INCIDENT/CUSTOMER.eml``."""

    name = "outbox"

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def deliver(self, message: EmailMessage, *, incident: str, customer: str) -> str:
        return str(write_eml(message, eml_path(self.outbox / "sent", incident, customer)))


class SmtpChannel:
    """Sends notifications through an SMTP server."""

    name = "smtp"

    def __init__(self, host: str, port: int) -> None:
        self.server = SmtpServer(host=host, port=port, timeout=30)

    def deliver(self, message: EmailMessage, *, incident: str, customer: str) -> str:
        try:
            self.server.send(message)
        except MailNotSent as exc:
            raise DeliveryError(f"{incident}/{customer}: {exc}") from exc
        return f"smtp {self.server} {message['Message-ID']}"


def _outbox(settings: Settings) -> Channel:
    return OutboxChannel(Path(settings.notify_outbox))


def _smtp(settings: Settings) -> Channel | None:
    return SmtpChannel(settings.smtp_host, settings.smtp_port) if settings.smtp_host else None


#: Every known channel by name.
CHANNELS: dict[str, ChannelFactory] = {"outbox": _outbox, "smtp": _smtp}


def register_channel(name: str, factory: ChannelFactory) -> None:
    """Make a channel available to ``VIGILE_NOTIFY_CHANNELS`` under ``name``."""
    CHANNELS[name] = factory


def channels_for(settings: Settings) -> list[Channel]:
    """The configured channels, in order; unknown names are a configuration error."""
    names = [n.strip() for n in settings.notify_channels.split(",") if n.strip()]
    unknown = sorted(set(names) - set(CHANNELS))
    if unknown:
        known = ", ".join(sorted(CHANNELS))
        raise ConfigError(f"VIGILE_NOTIFY_CHANNELS: unknown {', '.join(unknown)}; known: {known}")
    built = (CHANNELS[name](settings) for name in names)
    return [channel for channel in built if channel is not None]
