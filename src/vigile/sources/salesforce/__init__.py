"""Salesforce: Event Monitoring's events and Service Cloud's Cases.

Three kinds of objects, told apart by their keys (docs/sources.md has the field-by-field
tables):

- an **Event Log File row** (``EVENT_TYPE``): the CSV Salesforce serves for each
  ``EventLogFile`` (read by :class:`~vigile.sources.reading.VendorLogReader` row by row),
  or the same row as a JSON object (a SIEM's copy): ``Login``, ``LoginAs``, ``Logout``,
  ``Console``, ``LightningPageView``, ``LightningInteraction``, ``URI``, ``Search``,
  ``Report``, ``ReportExport``, ``BulkApi``, ``RestApi``;
- a **Real-Time Event Monitoring storage object** (``attributes.type``, as the REST query
  API returns it): ``LoginEvent``, ``LoginAsEvent``, ``LightningUriEvent``,
  ``ReportEvent``, ``ApiEvent``;
- a **Case** or **CaseHistory** record (``attributes.type``).

Sign-ins come from ``Login``/``LoginEvent``; the impersonation of ``LoginAs`` becomes an
audit event; a record page of an Account, a Contact, a Case or a customer's User (their
login account) becomes an access to that customer; searches become ``customer.search``;
reports and API queries that name their rows' records become exports; Cases become ticket
steps. Salesforce ids are compared by their first 15 characters (an 18-character id adds a
checksum). What Salesforce does not say (which fields a page showed, which records a search
found) is documented as lost, never made up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vigile.sources.base import Identities, InvalidField, MapResult
from vigile.sources.salesforce.mapping import map_salesforce
from vigile.sources.salesforce.records import (
    ACCOUNT_SYSTEM,
    CONTACT_SYSTEM,
    CSV_COLUMNS,
    SYSTEM,
    TIMES,
    USER_SYSTEM,
    CaseHistoryRecord,
    CaseRecord,
    Envelope,
    Export,
    Login,
    LoginAs,
    NotRead,
    RecordView,
    SalesforceRecord,
    Search,
    parse_salesforce,
    salesforce_id,
)

__all__ = [
    "ACCOUNT_SYSTEM",
    "CONTACT_SYSTEM",
    "CSV_COLUMNS",
    "SALESFORCE",
    "SYSTEM",
    "USER_SYSTEM",
    "CaseHistoryRecord",
    "CaseRecord",
    "Envelope",
    "Export",
    "Login",
    "LoginAs",
    "NotRead",
    "RecordView",
    "SalesforceSource",
    "Search",
    "map_salesforce",
    "parse_salesforce",
    "salesforce_id",
]


@dataclass(frozen=True, slots=True)
class SalesforceSource:
    """Salesforce's events and Cases as a :class:`vigile.sources.base.Source`; it reads
    Event Log Files' CSV too (:meth:`check_header`)."""

    name: str = "salesforce"

    def parse(self, obj: object) -> SalesforceRecord:
        return parse_salesforce(obj)

    def map(self, record: SalesforceRecord, identities: Identities) -> MapResult:
        return map_salesforce(record, identities)

    def check_header(self, columns: Sequence[str]) -> None:
        """An Event Log File's header: :class:`InvalidField` naming a missing column."""
        for column in CSV_COLUMNS:
            if column not in columns:
                raise InvalidField(column, "missing required column")
        if not any(time in columns for time in TIMES):
            raise InvalidField(TIMES[0], "missing required column (or TIMESTAMP)")


SALESFORCE = SalesforceSource()
