"""The notification workflow of an incident: preview, approve, send; never twice.

``preview`` renders one message per affected customer into ``OUTBOX/preview/INCIDENT/``
and pins each message's digest; ``approve`` accepts exactly what was previewed (a
message that changed since, because events arrived or a template was edited, must be
previewed again); ``send`` delivers the approved messages through the configured
channels and marks each sent, so a second ``send`` delivers nothing. Each step is an
audit event on the incident.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Update, insert, select, update

from vigile.model import Contact
from vigile.model.times import to_micros
from vigile.respond.blast import CustomerExposure, blast_radius
from vigile.respond.channels import Channel, channels_for, eml_path, write_eml
from vigile.respond.codes import codes_for, load_code_key, message_id_of
from vigile.respond.errors import NotificationNotReady
from vigile.respond.incidents import Incidents
from vigile.respond.notices import Notice, NoticeFacts, Templates
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["Delivery", "Notifications", "Preview", "digest_of"]

_ADDRESS = re.compile(r"[^\s@<>,;\"]+@[^\s@<>,;\"]+")
_ROLE_ORDER = {"admin": 0, "billing": 1, "technical": 2}
_N = t.incident_notifications


def digest_of(message: EmailMessage) -> str:
    """SHA-256 of the message without its Date: what approval pins."""
    copy = EmailMessage(policy=message.policy)
    for name, value in message.items():
        if name.lower() != "date":
            copy[name] = value
    copy.set_payload(message.get_payload())
    return hashlib.sha256(copy.as_bytes()).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class Preview:
    """What ``preview`` rendered, and the customers it could not write to."""

    notices: tuple[Notice, ...]
    paths: tuple[Path, ...]
    unreachable: tuple[str, ...]  # no contact with an email address


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    """One notification sent (or skipped: already sent before)."""

    customer: str
    language: str
    receipts: tuple[str, ...]
    already_sent: bool


class Notifications:
    """Preview, approval and delivery of an incident's customer notifications."""

    def __init__(self, incidents: Incidents) -> None:
        self.incidents = incidents
        self.store = incidents.store
        settings = self.store.settings
        self.templates = Templates(settings.notify_templates, sender=settings.notify_from)
        self.domain = settings.notify_from.rpartition("@")[2] or "vigile.local"
        self.outbox = Path(settings.notify_outbox)
        self.code_key = Path(settings.notify_code_key)
        self.verify_url = settings.notify_verify_url

    def render(self, incident_id: str) -> tuple[list[Notice], list[str]]:
        """One notice per affected customer that has a contact address; and the others."""
        incident = self.incidents.get(incident_id)
        radius = blast_radius(self.store, incident.scope)
        notices: list[Notice] = []
        unreachable: list[str] = []
        for exposure in radius.customers:
            facts = self._facts(incident_id, exposure)
            if facts.recipients:
                notices.append(self.templates.render(facts, self.domain))
            else:
                unreachable.append(exposure.customer)
        return notices, unreachable

    def preview(self, incident_id: str, actor: str) -> Preview:
        """Render every notice to the preview folder and pin its digest."""
        notices, unreachable = self.render(incident_id)
        folder = self.outbox / "preview"
        paths = tuple(
            write_eml(n.message, eml_path(folder, incident_id, n.customer)) for n in notices
        )
        digests = {n.customer: digest_of(n.message) for n in notices}
        with connect(self.store.engine) as conn:
            for notice in notices:
                _pin(conn, incident_id, notice, digests[notice.customer])
            conn.commit()
        details = {"digests": digests, "unreachable": unreachable, "folder": str(folder)}
        self.incidents.record(incident_id, "notification.previewed", actor, details)
        return Preview(notices=tuple(notices), paths=paths, unreachable=tuple(unreachable))

    def approve(self, incident_id: str, actor: str) -> list[str]:
        """Approve every previewed notice not yet sent; returns their customers."""
        pinned = self._rows(incident_id, "drafted", "approved")
        if not pinned:
            raise NotificationNotReady(f"{incident_id}: nothing to approve; preview first")
        current = {n.customer: digest_of(n.message) for n in self.render(incident_id)[0]}
        changed = sorted(c for c, digest in pinned.items() if current.get(c) != digest)
        if changed:
            raise NotificationNotReady(
                f"{incident_id}: the notices of {', '.join(changed)} changed since the "
                "preview; preview again"
            )
        with connect(self.store.engine) as conn:
            conn.execute(_where(update(_N), incident_id, list(pinned)).values(status="approved"))
            conn.commit()
        self.incidents.record(incident_id, "notification.approved", actor, {"digests": pinned})
        return sorted(pinned)

    def send(self, incident_id: str, actor: str) -> list[Delivery]:
        """Deliver every approved notice once; those sent before are reported, not resent."""
        approved = self._rows(incident_id, "approved")
        sent = self._rows(incident_id, "sent")
        if not approved and not sent:
            raise NotificationNotReady(f"{incident_id}: nothing approved to send")
        channels = channels_for(self.store.settings)
        deliveries = [_skipped(customer) for customer in sorted(sent)]
        for notice in self.render(incident_id)[0]:
            if notice.customer in approved:
                receipts = self._deliver(incident_id, notice, approved[notice.customer], channels)
                self._record_sent(incident_id, notice, receipts, actor)
                deliveries.append(
                    Delivery(
                        customer=notice.customer,
                        language=notice.language,
                        receipts=receipts,
                        already_sent=False,
                    )
                )
        return deliveries

    def _deliver(
        self, incident_id: str, notice: Notice, digest: str, channels: Sequence[Channel]
    ) -> tuple[str, ...]:
        if digest_of(notice.message) != digest:
            raise NotificationNotReady(
                f"{incident_id}: the notice of {notice.customer} changed since its approval; "
                "preview and approve again"
            )
        receipts = tuple(
            channel.deliver(notice.message, incident=incident_id, customer=notice.customer)
            for channel in channels
        )
        with connect(self.store.engine) as conn:
            values = {"status": "sent", "sent_us": to_micros(self.incidents.clock())}
            conn.execute(_where(update(_N), incident_id, [notice.customer]).values(values))
            conn.commit()
        return receipts

    def _record_sent(
        self, incident_id: str, notice: Notice, receipts: tuple[str, ...], actor: str
    ) -> None:
        details = {
            "language": notice.language,
            "message_id": notice.message["Message-ID"],
            # to whom: what a recipient's verification code is checked against
            "recipients": [a.addr_spec.lower() for a in notice.message["To"].addresses],
            "receipts": list(receipts),
        }
        self.incidents.record(
            incident_id,
            "notification.sent",
            actor,
            details,
            customer=notice.customer,
            event_id=f"{incident_id}/notification.sent/{notice.customer}",
        )

    def _rows(self, incident_id: str, *statuses: str) -> dict[str, str]:
        query = select(_N.c.customer, _N.c.digest).where(
            _N.c.incident == incident_id, _N.c.status.in_(statuses)
        )
        with connect(self.store.engine) as conn:
            return {row[0]: row[1] for row in conn.execute(query)}

    def _facts(self, incident_id: str, exposure: CustomerExposure) -> NoticeFacts:
        customer = self.store.customer(exposure.customer)
        contacts = self.store.contacts_of(exposure.customer)
        accounts = self.store.accounts_of(exposure.customer)
        recipients = _recipients(contacts)
        message_id = message_id_of(incident_id, exposure.customer, self.domain)
        key = load_code_key(self.code_key, create=True) if recipients else b""
        return NoticeFacts(
            incident=incident_id,
            customer=exposure.customer,
            customer_name=(customer.name if customer else None) or exposure.customer,
            country=customer.country if customer else None,
            language=_language(customer.extra if customer else {}),
            recipients=recipients,
            fields=exposure.fields,
            masked_fields=exposure.masked_fields,
            contacts=tuple(c for c in contacts if c.id in exposure.contacts),
            accounts=tuple(a for a in accounts if a.id in exposure.accounts),
            first_access=exposure.first_access,
            last_access=exposure.last_access,
            accesses=exposure.accesses,
            sent_at=self.incidents.clock(),
            codes=codes_for(key, message_id, recipients) if recipients else (),
            verify_url=self.verify_url,
        )


def _language(extra: Mapping[str, Any]) -> str | None:
    """The customer's language when the directory records one (an extra field)."""
    value = extra.get("language")
    return value if isinstance(value, str) and value else None


def _recipients(contacts: Sequence[Contact]) -> tuple[str, ...]:
    """Every well-formed contact address, administrative contacts first (an address from
    the directory with spaces or line breaks could inject headers: it is left out)."""
    ordered = sorted(contacts, key=lambda c: (_ROLE_ORDER.get(c.role or "", 9), c.id))
    emails = (c.email for c in ordered if c.email and _ADDRESS.fullmatch(c.email))
    return tuple(dict.fromkeys(emails))


def _pin(conn: Connection, incident_id: str, notice: Notice, digest: str) -> None:
    """Record (or refresh) a notice's preview; one already sent is left alone."""
    key = (_N.c.incident == incident_id) & (_N.c.customer == notice.customer)
    status = conn.execute(select(_N.c.status).where(key)).scalar_one_or_none()
    values = {"language": notice.language, "digest": digest, "status": "drafted"}
    if status is None:
        conn.execute(insert(_N).values(incident=incident_id, customer=notice.customer, **values))
    elif status != "sent":
        conn.execute(update(_N).where(key).values(values))


def _where(statement: Update, incident_id: str, customers: list[str]) -> Update:
    return statement.where(_N.c.incident == incident_id, _N.c.customer.in_(customers))


def _skipped(customer: str) -> Delivery:
    return Delivery(customer=customer, language="", receipts=(), already_sent=True)
