"""Customer notifications: one per affected customer, in the customer's language.

Rendering is pure: a :class:`NoticeFacts` (what the blast radius says about one customer,
and who to write to) and a template set give an RFC 5322 message, multipart text and
HTML, with a fixed Message-ID and boundary so the same facts always give the same bytes
(what is previewed is what is approved is what is sent). Dates, numbers and lists are
localised with Babel; the built-in templates (English, French) can be overridden file
by file from a folder (``VIGILE_NOTIFY_TEMPLATES``), which may also add languages.
Each notice also says which of the customer's data fields its message quotes (those its
templates read), so that showing it to a person can be recorded as an access.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.languages import get_official_languages
from babel.lists import format_list
from babel.numbers import format_decimal
from jinja2 import TemplateError as JinjaError

from vigile.errors import ConfigError
from vigile.model import DATA_FIELDS, Account, Contact
from vigile.render.templates import template_environment
from vigile.respond.blast import CATEGORIES, category_of
from vigile.respond.codes import CODE_HEADER, message_id_of

__all__ = ["BUILTIN_TEMPLATES", "DEFAULT_LANGUAGE", "Notice", "NoticeFacts", "Templates"]

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, kw_only=True, slots=True)
class NoticeFacts:
    """What one customer's notification says, and to whom."""

    incident: str
    customer: str
    customer_name: str
    country: str | None
    language: str | None  # the customer's own choice, when the directory records one
    recipients: tuple[str, ...]
    fields: tuple[str, ...]  # in clear
    masked_fields: tuple[str, ...]  # seen only masked
    contacts: tuple[Contact, ...]
    accounts: tuple[Account, ...]
    first_access: datetime
    last_access: datetime
    accesses: int
    sent_at: datetime  # the message's Date
    codes: tuple[tuple[str, str], ...] = ()  # (recipient, verification code)
    verify_url: str = ""  # where a recipient checks its code


@dataclass(frozen=True, kw_only=True, slots=True)
class Notice:
    """A rendered notification: the message and the digest approval pins, and the data
    fields of the customer it quotes (``customer.name``, and each contact's or account's
    field its templates read with a value)."""

    customer: str
    language: str
    message: EmailMessage
    quoted: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        """SHA-256 of the message's bytes."""
        return hashlib.sha256(self.message.as_bytes()).hexdigest()


class Templates:
    """The notification templates: a user's folder first, then the built-in ones."""

    def __init__(self, override: str = "", *, sender: str) -> None:
        folders = [Path(override)] if override else []
        for folder in folders:
            if not folder.is_dir():
                raise ConfigError(f"VIGILE_NOTIFY_TEMPLATES: {folder} is not a folder")
        self.sender = sender
        # The user's folder first: it overrides the built-in templates file by file.
        # Sandboxed: templates from a folder render data, they do not run code.
        self.env = template_environment(*folders, BUILTIN_TEMPLATES, sandboxed=True)

    def languages(self) -> set[str]:
        """Languages with a complete set of templates."""
        names = set(self.env.list_templates())
        found = {n.split("/")[1] for n in names if n.startswith("notification/")}
        parts = ("subject.txt.j2", "body.txt.j2", "body.html.j2")
        return {lang for lang in found if all(f"notification/{lang}/{p}" in names for p in parts)}

    def language_for(self, facts: NoticeFacts) -> str:
        """The customer's language, else its country's first official language we
        write, else English."""
        available = self.languages()
        wanted = [facts.language] if facts.language else []
        if facts.country:
            wanted.extend(get_official_languages(facts.country.upper()))
        return next((lang for lang in wanted if lang in available), DEFAULT_LANGUAGE)

    def render(self, facts: NoticeFacts, domain: str) -> Notice:
        """The notification of ``facts`` as an RFC 5322 message."""
        language = self.language_for(facts)
        quoted = {"customer.name"}  # the greeting and the subject name the customer
        context = self._context(facts, language, quoted)
        try:
            # One line: a name from the directory must not fold into extra headers.
            subject = " ".join(self._render(language, "subject.txt.j2", context).split())
            text = self._render(language, "body.txt.j2", context | {"subject": subject})
            html = self._render(language, "body.html.j2", context | {"subject": subject})
        except JinjaError as exc:
            raise ConfigError(f"notification template ({language}): {exc}") from exc
        message = _message(facts, language, domain, sender=self.sender, parts=(subject, text, html))
        return Notice(
            customer=facts.customer,
            language=language,
            message=message,
            quoted=tuple(sorted(quoted)),
        )

    def _render(self, language: str, part: str, context: dict[str, Any]) -> str:
        return self.env.get_template(f"notification/{language}/{part}").render(context)

    def _context(self, facts: NoticeFacts, language: str, quoted: set[str]) -> dict[str, Any]:
        return {
            "incident": facts.incident,
            "customer": facts.customer,
            "customer_name": facts.customer_name,
            "exposed": _grouped(facts.fields),
            "masked": _grouped(facts.masked_fields),
            "masked_groups": lambda categories, labels: _masked_groups(
                facts.masked_fields, categories, labels, language
            ),
            "contacts": [_Quoted(c, "contact", quoted) for c in facts.contacts],
            "accounts": [_Quoted(a, "account", quoted) for a in facts.accounts],
            "first_access": facts.first_access,
            "last_access": facts.last_access,
            "accesses": facts.accesses,
            "sender": self.sender,
            "codes": facts.codes,
            "verify_url": facts.verify_url,
            "language": language,
            "fmt_date": lambda moment: format_date(moment.date(), format="long", locale=language),
            "fmt_number": lambda number: format_decimal(number, locale=language),
            # fmt_list(items, labels): "a, b and c", each item through ``labels`` if given.
            "fmt_list": lambda items, labels=None: format_list(
                [labels[i] if labels else i for i in items], locale=language
            ),
        }


class _Quoted:
    """A contact or account as the templates see it: each of its data fields read with
    a value is added to ``quoted`` (the templates are the user's to change, so what a
    message quotes is what its templates read, not what the built-in ones do)."""

    __slots__ = ("_kind", "_quoted", "_record")

    def __init__(self, record: Contact | Account, kind: str, quoted: set[str]) -> None:
        self._record = record
        self._kind = kind
        self._quoted = quoted

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._record, name)
        data_field = f"{self._kind}.{name}"
        if value not in (None, "") and data_field in DATA_FIELDS:
            self._quoted.add(data_field)
        return value


def _grouped(data_fields: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Fields by data category, in the order of :data:`CATEGORIES`."""
    order = list(CATEGORIES.values())
    groups: dict[str, list[str]] = {}
    for data_field in sorted(data_fields):
        groups.setdefault(category_of(data_field), []).append(data_field)
    return sorted(groups.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99)


def _masked_groups(
    masked: Sequence[str], categories: dict[str, str], labels: dict[str, str], language: str
) -> list[str]:
    """``your contacts (email addresses and phone numbers)``, one per category."""
    return [
        f"{categories[c].lower()} ({format_list([labels[f] for f in names], locale=language)})"
        for c, names in _grouped(masked)
    ]


def _message(
    facts: NoticeFacts, language: str, domain: str, *, sender: str, parts: Sequence[str]
) -> EmailMessage:
    subject, text, html = parts
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = ", ".join(facts.recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(facts.sent_at)
    # One Message-ID per incident and customer: a resend would be recognisably the same.
    message["Message-ID"] = message_id_of(facts.incident, facts.customer, domain)
    for recipient, code in facts.codes:
        message[CODE_HEADER] = f"{recipient} {code}"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = language  # after the body: set_content drops Content-*
    # A boundary derived from the content, not random: same facts, same bytes.
    seed = hashlib.sha256(f"{subject}\0{text}\0{html}".encode()).hexdigest()[:32]
    message.set_boundary(f"vigile-{seed}")
    return message
