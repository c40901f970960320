"""Handing RFC 5322 messages to an SMTP server: the one place Vigile speaks SMTP.

The broker's ``email`` channel (approvers) and response's ``smtp`` channel (customer
notifications) both send through :class:`SmtpServer`; each keeps its own registry of
channels by name and its own settings. A message is sent to all its recipients or not
at all as far as the caller knows: a refused recipient is an error too.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from vigile.errors import OutputError

__all__ = ["MailNotSent", "SmtpServer"]


class MailNotSent(OutputError):
    """The server could not be reached, refused the message or refused a recipient."""

    def __init__(self, message: str, *, server: str, refused: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.server = server
        self.refused = refused


@dataclass(frozen=True, kw_only=True, slots=True)
class SmtpServer:
    """An SMTP server, as ``host:port``, and how long to wait for it."""

    host: str
    port: int = 25
    timeout: float = 30

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` to the recipients its headers name."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
                refused = server.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(f"SMTP {self} refused the message: {exc}", server=str(self)) from exc
        if refused:
            recipients = tuple(sorted(refused))
            raise MailNotSent(
                f"recipients refused: {list(recipients)}", server=str(self), refused=recipients
            )
