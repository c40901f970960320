"""``SmtpServer.send`` against a real local SMTP server (aiosmtpd): delivered, a recipient
refused, no server at all."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from tests.mail.inbox import Inbox, free_port, smtp_inbox
from vigile.errors import OutputError
from vigile.mail import MailNotSent, SmtpServer


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpServer]]:
    with smtp_inbox() as (inbox, port):
        yield inbox, SmtpServer(host="127.0.0.1", port=port, timeout=5)


def _message(*recipients: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "vigile@example.test"
    message["To"] = ", ".join(recipients)
    message["Subject"] = "grant grant-1 waits for approval"
    message.set_content("agent a-1 asks for contact of customer c-1\n")
    return message


def test_a_message_reaches_its_recipients(smtp: tuple[Inbox, SmtpServer]) -> None:
    inbox, server = smtp
    server.send(_message("leads@example.test", "sec@example.test"))
    [received] = inbox.messages
    assert received["Subject"] == "grant grant-1 waits for approval"
    assert received["To"] == "leads@example.test, sec@example.test"


def test_a_refused_recipient_is_an_error(smtp: tuple[Inbox, SmtpServer]) -> None:
    inbox, server = smtp
    with pytest.raises(MailNotSent, match=r"recipients refused: \['x@refused.example'\]") as info:
        server.send(_message("leads@example.test", "x@refused.example"))
    assert info.value.refused == ("x@refused.example",)
    assert len(inbox.messages) == 1  # the others got it: the caller must know it was partial


def test_no_server_is_an_output_error_naming_it() -> None:
    server = SmtpServer(host="127.0.0.1", port=free_port(), timeout=5)
    assert str(server) == f"127.0.0.1:{server.port}"
    with pytest.raises(OutputError, match=rf"SMTP 127\.0\.0\.1:{server.port} refused the message"):
        server.send(_message("leads@example.test"))
