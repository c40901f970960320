"""Analysts' reads: what response shows a person of customers' data, as accesses.

An analyst reading an incident's blast radius or its notification previews reads
customer data, as an agent does. Each page view is one ``access`` per customer it shows
(action ``customer.view``, the fields shown in clear and masked), by the analyst (the
agent), on their session, from their address, justified by the incident: reason
``agent_initiated_review``, no ticket, and the incident in the extra field
:data:`~vigile.model.INCIDENT_FIELD` (version 1 of the activity log has no field for
it, and keeps unknown ones). Those customers see them in their transparency log.

Pure: the adapter says what its page shows; :meth:`Incidents.record_reads
<vigile.respond.Incidents.record_reads>` records the accesses in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from vigile.model import INCIDENT_FIELD, Access, Action, Reason

__all__ = ["Reader", "Shown", "incident_reads"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Reader:
    """Who reads: an analyst's agent id, the session they act on, their address."""

    agent: str
    session: str
    ip: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Shown:
    """What a page shows of one customer's data: the data fields in clear and masked."""

    customer: str
    fields: tuple[str, ...] = ()
    masked_fields: tuple[str, ...] = ()


def incident_reads(
    incident: str, reader: Reader, shown: Iterable[Shown], now: datetime
) -> list[Access]:
    """One access per customer shown (a customer shown twice is one access with all it
    showed; a field shown in clear anywhere is in clear), none for a customer of which
    nothing is shown."""
    clear: dict[str, set[str]] = {}
    masked: dict[str, set[str]] = {}
    for part in shown:
        clear.setdefault(part.customer, set()).update(part.fields)
        masked.setdefault(part.customer, set()).update(part.masked_fields)
    return [
        Access(
            id=f"acc-{uuid.uuid4().hex}",
            time=now,
            agent=reader.agent,
            session=reader.session,
            ip=reader.ip,
            action=Action.CUSTOMER_VIEW,
            outcome="allowed",
            customer=customer,
            fields=tuple(sorted(fields)),
            masked_fields=tuple(sorted(masked[customer] - fields)),
            reason=Reason.AGENT_INITIATED_REVIEW,
            extra={INCIDENT_FIELD: incident},
        )
        for customer, fields in clear.items()
        if fields or masked[customer]
    ]
