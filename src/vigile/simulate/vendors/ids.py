"""The ids each vendor gives the simulated people, customers and tickets.

Vendors name things by their own ids: an Okta user by its login, a Zendesk user,
organisation or ticket by an integer, a Salesforce record by an 18-character id. The
writers and the directory file must agree on them, so they are made here, once, from the
native log's ids in the order the log first names them: the same seed gives the same ids.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

__all__ = [
    "VendorIds",
    "case_safe",
    "event_uuid",
    "okta_user_id",
    "salesforce_id",
    "salesforce_key",
]

_NAMESPACE = uuid.UUID("6f1c2a7e-3d0b-5b8e-9c4f-2a1d7e0b6c35")  # Vigile's simulator
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Zendesk's ids are large integers; these bases keep each kind apart and plausible.
_ZENDESK_USER = 361_000_000_000
_ZENDESK_END_USER = 362_000_000_000
_ZENDESK_ORG = 360_000_000_000
_ZENDESK_TICKET = 10_000
_ZENDESK_AUDIT = 5_000_000_000_000
_SALESFORCE_CUSTOMER_USERS = 1_000_000  # customers' own (Experience Cloud) users


def case_safe(short: str) -> str:
    """The 18-character form of a 15-character Salesforce id: the documented checksum, one
    letter per five characters whose bits say which of them are capitals."""
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(short[5 * chunk : 5 * chunk + 5]) if c.isupper())
        suffix += _SUFFIX[bits]
    return short + suffix


def salesforce_id(prefix: str, n: int) -> str:
    """A Salesforce 18-character id: a three-character key prefix (``005`` User, ``001``
    Account, ``003`` Contact, ``500`` Case), the org's pod ``5g0``, ``n`` in base 62, and
    the case-safe suffix."""
    digits = ""
    for _ in range(9):
        n, rest = divmod(n, 62)
        digits = _BASE62[rest] + digits
    return case_safe(f"{prefix}5g0{digits}")


def okta_user_id(agent: str) -> str:
    """Okta's id of a user (``00u`` and 17 characters), stable per agent."""
    digest = hashlib.blake2b(agent.encode(), digest_size=16).digest()
    return "00u" + "".join(_BASE62[b % 62] for b in digest)[:16] + "7"


def event_uuid(native_id: str) -> str:
    """A UUID for a vendor event standing for the native event ``native_id``."""
    return str(uuid.uuid5(_NAMESPACE, native_id))


@dataclass(slots=True)
class VendorIds:
    """Vendor ids handed out in the order the native log names agents, customers, contacts
    and tickets."""

    agents: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, int] = field(default_factory=dict)
    tickets: dict[str, int] = field(default_factory=dict)
    employers: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    audits: int = 0

    def add_agent(self, agent: str, employer: str | None, name: str | None) -> None:
        self.agents.setdefault(agent, len(self.agents))
        self.employers[agent] = employer or "vigile-support"
        if name:
            self.names[agent] = name

    def add_customer(self, customer: str) -> None:
        self.customers.setdefault(customer, len(self.customers))

    def add_contact(self, contact: str) -> None:
        self.contacts.setdefault(contact, len(self.contacts))

    def add_account(self, account: str) -> None:
        self.accounts.setdefault(account, len(self.accounts))

    def add_subscription(self, subscription: str) -> None:
        self.subscriptions.setdefault(subscription, len(self.subscriptions))

    # -- Okta --------------------------------------------------------------------------

    def okta_login(self, agent: str) -> str:
        """The agent's Okta login (``actor.alternateId``), an e-mail address."""
        return f"{agent}@{self.employers.get(agent, 'vigile-support')}.example"

    # -- Zendesk -----------------------------------------------------------------------

    def zendesk_user(self, agent: str) -> int:
        return _ZENDESK_USER + self.agents[agent]

    def zendesk_org(self, customer: str) -> int:
        return _ZENDESK_ORG + self.customers[customer]

    def zendesk_requester(self, customer: str) -> int:
        """The end user who writes in for ``customer`` (one per organisation)."""
        return _ZENDESK_END_USER + self.customers[customer]

    def ticket_number(self, ticket: str) -> int:
        """The vendor's number of the native ticket (Zendesk ticket id, Salesforce case
        number), handed out in order of first appearance."""
        return self.tickets.setdefault(ticket, _ZENDESK_TICKET + len(self.tickets))

    def next_audit(self) -> int:
        self.audits += 1
        return _ZENDESK_AUDIT + self.audits

    # -- Salesforce --------------------------------------------------------------------

    def salesforce_user(self, agent: str) -> str:
        return salesforce_id("005", self.agents[agent] + 1)

    def salesforce_account(self, customer: str) -> str:
        return salesforce_id("001", self.customers[customer] + 1)

    def salesforce_contact(self, contact: str) -> str:
        return salesforce_id("003", self.contacts[contact] + 1)

    def salesforce_account_user(self, account: str) -> str:
        """The Experience Cloud User of a customer's login (an account of the spec)."""
        return salesforce_id("005", _SALESFORCE_CUSTOMER_USERS + self.accounts[account])

    def salesforce_asset(self, subscription: str) -> str:
        """A subscription as Salesforce keeps it: an Asset record."""
        return salesforce_id("02i", self.subscriptions[subscription] + 1)

    def salesforce_case(self, ticket: str) -> str:
        return salesforce_id("500", self.ticket_number(ticket))

    @staticmethod
    def salesforce_queue() -> str:
        """The support queue new Cases are created in (a Group, ``00G``)."""
        return salesforce_id("00G", 1)


def salesforce_key(kind: str, native: str) -> str:
    """A 16-character Salesforce key (``LOGIN_KEY``, ``SESSION_KEY``) or request id
    standing for the native ``native`` id, stable."""
    digest = hashlib.blake2b(f"{kind}:{native}".encode(), digest_size=16).digest()
    return "".join(_BASE62[b % 62] for b in digest)
