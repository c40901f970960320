"""Simulated work in Salesforce Service Cloud: Event Log File rows, Login events, Cases.

The inverse of :mod:`vigile.sources.salesforce`'s mapping (docs/sources.md, Salesforce),
writing only what Salesforce writes:

- a sign-in is a Real-Time Event Monitoring ``LoginEvent`` (the storage object, as SOQL
  returns it, with ``attributes``): its ``LoginKey`` is the ``LOGIN_KEY`` of every page the
  session then shows; with Okta in front, only successful sign-ins reach Salesforce (as
  SAML single sign-on), the failures stay in Okta's log;
- an allowed access is a ``LightningPageView`` Event Log File row: the page of the record
  shown (an Account for the customer and its billing, a Contact, the customer's own
  Experience Cloud User for an account, an Asset for a subscription), from the agent's
  ``LOGIN_KEY`` and ``CLIENT_IP``; a search is a ``Search`` row (its query and how many
  records it found, not which);
- with the tickets in Salesforce, a ticket is a ``Case`` (created in the support queue,
  as a daily query of the day's new Cases returns it at the end of its day) and its
  ``CaseHistory`` rows (owner and status changes); a page opened under a ticket was
  reached from that Case's page: ``PREVPAGE_ENTITY_TYPE`` ``Case`` and
  ``PREVPAGE_ENTITY_ID``. Nothing else carries a justification: Salesforce records none.

Not written, because Salesforce does not log them: denied requests (Salesforce logs pages
served), which fields a page showed in clear or masked, a reveal as such (a Contact's page
shows what the layout shows), the records a search listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vigile.simulate.vendors.ids import VendorIds, event_uuid, salesforce_id, salesforce_key
from vigile.simulate.vendors.okta import COUNTRY_NAMES

__all__ = ["PAGE_VIEW_COLUMNS", "SEARCH_COLUMNS", "SalesforceLog"]

_ORG = "00D5g000004Vgl1"  # the simulated organisation's Salesforce org id
_API = "/services/data/v60.0/sobjects"
PAGE_VIEW_COLUMNS = (
    "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "CLIENT_ID",
    "SESSION_KEY", "LOGIN_KEY", "USER_TYPE", "APP_NAME", "DEVICE_PLATFORM", "USER_AGENT",
    "BROWSER_NAME", "PAGE_START_TIME", "DURATION", "EFFECTIVE_PAGE_TIME",
    "PAGE_ENTITY_ID", "PAGE_ENTITY_TYPE", "PAGE_CONTEXT", "PAGE_URL", "PAGE_APP_NAME",
    "PREVPAGE_ENTITY_ID", "PREVPAGE_ENTITY_TYPE", "PREVPAGE_CONTEXT", "PREVPAGE_URL",
    "PREVPAGE_APP_NAME", "TIMESTAMP_DERIVED", "USER_ID_DERIVED", "CLIENT_IP",
)  # fmt: skip
SEARCH_COLUMNS = (
    "EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "RUN_TIME",
    "CPU_TIME", "URI", "SESSION_KEY", "LOGIN_KEY", "USER_TYPE", "SEARCH_QUERY",
    "NUM_RESULTS", "PREFIXES_SEARCHED", "QUERY_ID", "TIMESTAMP_DERIVED", "USER_ID_DERIVED",
    "CLIENT_IP",
)  # fmt: skip
_RECORD_PAGE = "force:recordLayoutTemplateDesktop"
_HOME = "/lightning/page/home"


def _elf_time(time: str) -> tuple[str, str]:
    """``TIMESTAMP`` (``YYYYMMDDHHMMSS.fff``, GMT) and ``TIMESTAMP_DERIVED`` of a time."""
    digits = time[:19].replace("-", "").replace("T", "").replace(":", "")
    return f"{digits}.000", f"{time[:19]}.000Z"


def _soql_time(time: str) -> str:
    """A time as SOQL's JSON writes it: ``2021-05-20T09:12:00.000+0000``."""
    return f"{time[:19]}.000+0000"


@dataclass(slots=True)
class _Case:
    """What a Case record says when the simulation ends."""

    id: str
    number: int
    account: str
    created: str
    owner: str
    status: str = "New"
    closed: str | None = None
    modified: str = ""
    category: str | None = None


@dataclass(slots=True)
class SalesforceLog:
    """Salesforce's records of the native log, in order.

    ``all_signins``: Salesforce is the identity provider (no Okta), so failed sign-ins are
    its too. ``cases``: the tickets are Salesforce Cases (no Zendesk)."""

    ids: VendorIds
    all_signins: bool
    cases: bool
    opened: dict[str, _Case] = field(default_factory=dict)
    unwritten: list[_Case] = field(default_factory=list)  # Cases created since the last query
    history: int = 0

    # -- sign-ins ----------------------------------------------------------------------

    def login_event(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        """The ``LoginEvent`` of a native sign-in, or None when Salesforce never sees it."""
        ok = record["outcome"] == "success"
        if not ok and not self.all_signins:
            return None
        identifier = event_uuid("salesforce:" + record["id"])
        country = record.get("country")
        return {
            "attributes": {"type": "LoginEvent", "url": f"{_API}/LoginEvent/{identifier}"},
            "EventIdentifier": identifier,
            "EventDate": _soql_time(record["time"]),
            "UserId": self.ids.salesforce_user(record["agent"]),
            "Username": self.ids.okta_login(record["agent"]),
            "LoginKey": salesforce_key("login", record["session"]),
            "SessionKey": salesforce_key("session", record["session"]) if ok else None,
            "SourceIp": record["ip"],
            "Status": "Success" if ok else "Invalid Password",
            "LoginType": "Application" if self.all_signins else "SAML Idp Initiated SSO",
            "Application": "Browser",
            "CountryIso": country,
            "Country": COUNTRY_NAMES.get(country or ""),
            "City": None,
            "LoginLatitude": record.get("lat"),
            "LoginLongitude": record.get("lon"),
            "Browser": None,
            "Platform": None,
            "LoginUrl": "vigile-sim.my.salesforce.com",
        }

    # -- cases -------------------------------------------------------------------------

    def ticket(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The ``CaseHistory`` rows of a native ticket step (the Case itself is written at
        the end, by :meth:`case_records`)."""
        ticket, step, time = record["ticket"], record["event"], record["time"]
        if step == "opened":
            case = self.opened[ticket] = _Case(
                id=self.ids.salesforce_case(ticket),
                number=self.ids.ticket_number(ticket),
                account=self.ids.salesforce_account(record["customer"]),
                created=time,
                owner=self.ids.salesforce_queue(),
                modified=time,
                category=record.get("category"),
            )
            self.unwritten.append(case)
            return []
        found = self.opened.get(ticket)
        if found is None:  # a step of a ticket the log never opened: no Case to change
            return []
        case = found
        case.modified = time
        if step == "assigned":
            user = self.ids.salesforce_user(record["agent"])
            name = self.ids.names.get(record["agent"], record["agent"])
            old_name = "Support Queue" if case.owner.startswith("00G") else case.owner
            rows = [
                self._history(case, time, "Owner", (case.owner, user), "EntityId"),
                self._history(case, time, "Owner", (old_name, name), "Text"),
            ]
            case.owner = user
            if case.status == "New":
                rows.append(self._history(case, time, "Status", ("New", "Working"), "Text"))
                case.status = "Working"
            return rows
        if case.status == "Closed":
            return []
        row = self._history(case, time, "Status", (case.status, "Closed"), "Text")
        case.status, case.closed = "Closed", time
        return [row]

    def _history(
        self, case: _Case, time: str, name: str, change: tuple[str, str], data_type: str
    ) -> dict[str, Any]:
        old, new = change
        self.history += 1
        row_id = salesforce_id("017", self.history)
        return {
            "attributes": {"type": "CaseHistory", "url": f"{_API}/CaseHistory/{row_id}"},
            "Id": row_id,
            "CaseId": case.id,
            "Field": name,
            "DataType": data_type,
            "OldValue": old,
            "NewValue": new,
            "CreatedDate": _soql_time(time),
        }

    def case_records(self) -> list[dict[str, Any]]:
        """The Cases created since the last call, as SOQL returns them now, in order of
        creation (``SELECT ... FROM Case WHERE CreatedDate = YESTERDAY`` run each day)."""
        cases, self.unwritten = self.unwritten, []
        return [
            {
                "attributes": {"type": "Case", "url": f"{_API}/Case/{case.id}"},
                "Id": case.id,
                "CaseNumber": f"{case.number:08d}",
                "AccountId": case.account,
                "OwnerId": case.owner,
                "Status": case.status,
                "IsClosed": case.closed is not None,
                "Origin": "Web",
                "Type": case.category,
                "CreatedDate": _soql_time(case.created),
                "ClosedDate": None if case.closed is None else _soql_time(case.closed),
                "LastModifiedDate": _soql_time(case.modified),
            }
            for case in cases
        ]

    # -- accesses ----------------------------------------------------------------------

    def _common(self, record: Mapping[str, Any], event_type: str) -> dict[str, Any]:
        timestamp, derived = _elf_time(record["time"])
        user = self.ids.salesforce_user(record["agent"])
        session = record["session"]
        return {
            "EVENT_TYPE": event_type,
            "TIMESTAMP": timestamp,
            "REQUEST_ID": "4" + salesforce_key("request", record["id"])[:14] + "-",
            "ORGANIZATION_ID": _ORG,
            "USER_ID": user[:15],
            "SESSION_KEY": salesforce_key("session", session),
            "LOGIN_KEY": salesforce_key("login", session),
            "USER_TYPE": "Standard",
            "TIMESTAMP_DERIVED": derived,
            "USER_ID_DERIVED": user,
            "CLIENT_IP": record.get("ip") or "",
        }

    def _page(self, record: Mapping[str, Any]) -> tuple[str, str] | None:
        """The record page (type, id) a native access shows, if Salesforce has one."""
        action, obj = record["action"], record.get("object")
        if action in ("customer.view", "billing.view"):
            return "Account", self.ids.salesforce_account(record["customer"])
        if action in ("contact.view", "contact.reveal") and obj in self.ids.contacts:
            return "Contact", self.ids.salesforce_contact(obj)
        if action == "account.view" and obj in self.ids.accounts:
            return "User", self.ids.salesforce_account_user(obj)
        if action == "subscription.view" and obj in self.ids.subscriptions:
            return "Asset", self.ids.salesforce_asset(obj)
        return None

    def access(self, record: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """The Event Log File row (its type and columns) of a native access, or None when
        Salesforce would log nothing (a denied request, an action without a page)."""
        if record["outcome"] != "allowed":
            return None
        if record["action"] == "customer.search":
            return "Search", self._search(record)
        page = self._page(record)
        if page is None:
            return None
        kind, entity = page
        row = self._common(record, "LightningPageView")
        case = self.opened.get(record.get("ticket") or "") if self.cases else None
        row.update(
            CLIENT_ID="",
            APP_NAME="one:one",
            DEVICE_PLATFORM="SFX:BROWSER:DESKTOP",
            USER_AGENT="",
            BROWSER_NAME="CHROME",
            PAGE_START_TIME="",
            DURATION="",
            EFFECTIVE_PAGE_TIME="",
            PAGE_ENTITY_ID=entity,
            PAGE_ENTITY_TYPE=kind,
            PAGE_CONTEXT=_RECORD_PAGE,
            PAGE_URL=f"/lightning/r/{kind}/{entity}/view",
            PAGE_APP_NAME="LightningService",
            PREVPAGE_ENTITY_ID=case.id if case else "",
            PREVPAGE_ENTITY_TYPE="Case" if case else "",
            PREVPAGE_CONTEXT=_RECORD_PAGE if case else "home:landing",
            PREVPAGE_URL=f"/lightning/r/Case/{case.id}/view" if case else _HOME,
            PREVPAGE_APP_NAME="LightningService",
        )
        return "LightningPageView", row

    def _search(self, record: Mapping[str, Any]) -> dict[str, Any]:
        row = self._common(record, "Search")
        row.update(
            RUN_TIME="",
            CPU_TIME="",
            URI="/aura",
            SEARCH_QUERY=(record.get("query") or "")[:100],
            NUM_RESULTS=len(record.get("results") or ()),
            PREFIXES_SEARCHED="001",
            QUERY_ID="",
        )
        return row
