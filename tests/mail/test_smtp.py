"""``SmtpServer.send`` against a real local SMTP server (aiosmtpd): delivered, a recipient
refused, no server at all."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from vigile.errors import OutputError
from vigile.mail import MailNotSent, SmtpServer


class _Inbox:
    """Keeps every message; refuses recipients at ``refused.example``."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, SmtpServer]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, SmtpServer(host="127.0.0.1", port=port, timeout=5)
    finally:
        controller.stop()


def _message(*recipients: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "vigile@example.test"
    message["To"] = ", ".join(recipients)
    message["Subject"] = "grant grant-1 waits for approval"
    message.set_content("agent a-1 asks for contact of customer c-1\n")
    return message


def test_a_message_reaches_its_recipients(smtp: tuple[_Inbox, SmtpServer]) -> None:
    inbox, server = smtp
    server.send(_message("leads@example.test", "sec@example.test"))
    [received] = inbox.messages
    assert received["Subject"] == "grant grant-1 waits for approval"
    assert received["To"] == "leads@example.test, sec@example.test"


def test_a_refused_recipient_is_an_error(smtp: tuple[_Inbox, SmtpServer]) -> None:
    inbox, server = smtp
    with pytest.raises(MailNotSent, match=r"recipients refused: \['x@refused.example'\]") as info:
        server.send(_message("leads@example.test", "x@refused.example"))
    assert info.value.refused == ("x@refused.example",)
    assert len(inbox.messages) == 1  # the others got it: the caller must know it was partial


def test_no_server_is_an_output_error_naming_it() -> None:
    server = SmtpServer(host="127.0.0.1", port=_free_port(), timeout=5)
    assert str(server) == f"127.0.0.1:{server.port}"
    with pytest.raises(OutputError, match=rf"SMTP 127\.0\.0\.1:{server.port} refused the message"):
        server.send(_message("leads@example.test"))
