"""The store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Directory tables (agents, customers, contacts, accounts, subscriptions) are upserted by
id. Event tables (ticket_events, signins, accesses, search_results) are append-only: the
code has no update or delete path for them and the database refuses both (triggers added
by the migrations). ``seq`` is the event's position in the order of recording, one
sequence shared by every event table; the ledger uses it as the leaf index.

Times are integer microseconds since the epoch, UTC (``*_us`` columns).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "APPEND_ONLY_TABLES",
    "EVENT_TABLES",
    "accesses",
    "accounts",
    "agents",
    "audit_events",
    "contacts",
    "customers",
    "identities",
    "lake_exports",
    "ledger_checkpoints",
    "ledger_entries",
    "ledger_leaves",
    "metadata",
    "search_results",
    "signins",
    "subscriptions",
    "ticket_events",
]

metadata = MetaData()

# On SQLite only INTEGER PRIMARY KEY is the rowid: appends then write no separate key index.
SEQ = BigInteger().with_variant(Integer, "sqlite")

agents = Table(
    "agents",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String),
    Column("team", String),
    Column("employer", String),
    Column("country", String),
    Column("timezone", String),
    Column("shift", Text),  # JSON {"days", "start", "end"}
    Column("tier", Integer),
    Column("time_us", BigInteger),
    Column("extra", Text),
)
Index("ix_agents_team", agents.c.team)

customers = Table(
    "customers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String),
    Column("tier", String),
    Column("country", String),
    Column("time_us", BigInteger),
    Column("extra", Text),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", String, primary_key=True),
    Column("customer", String, nullable=False),
    Column("role", String),
    Column("name", String),
    Column("email", String),
    Column("phone", String),
    Column("time_us", BigInteger),
    Column("extra", Text),
)
Index("ix_contacts_customer", contacts.c.customer)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String, primary_key=True),
    Column("customer", String, nullable=False),
    Column("username", String, nullable=False),
    Column("email", String),
    Column("status", String),
    Column("time_us", BigInteger),
    Column("extra", Text),
)
Index("ix_accounts_customer", accounts.c.customer)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String, primary_key=True),
    Column("customer", String, nullable=False),
    Column("service", String, nullable=False),
    Column("plan", String),
    Column("seats", Integer),
    Column("monthly_amount", Float),
    Column("currency", String),
    Column("time_us", BigInteger),
    Column("extra", Text),
)
Index("ix_subscriptions_customer", subscriptions.c.customer)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("id", String, nullable=False, unique=True),
    Column("time_us", BigInteger, nullable=False),
    Column("ticket", String, nullable=False),
    Column("event", String, nullable=False),
    Column("customer", String),
    Column("agent", String),
    Column("category", String),
    Column("extra", Text),
)
Index("ix_ticket_events_ticket_time", ticket_events.c.ticket, ticket_events.c.time_us)
Index("ix_ticket_events_customer_time", ticket_events.c.customer, ticket_events.c.time_us)
Index("ix_ticket_events_agent_time", ticket_events.c.agent, ticket_events.c.time_us)

signins = Table(
    "signins",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("id", String, nullable=False, unique=True),
    Column("time_us", BigInteger, nullable=False),
    Column("agent", String, nullable=False),
    Column("session", String, nullable=False),
    Column("outcome", String, nullable=False),
    Column("ip", String, nullable=False),
    Column("country", String),
    Column("lat", Float),
    Column("lon", Float),
    Column("device", String),
    Column("user_agent", String),
    Column("mfa", String),
    Column("extra", Text),
)
Index("ix_signins_agent_time", signins.c.agent, signins.c.time_us)
Index("ix_signins_session", signins.c.session, signins.c.time_us)

accesses = Table(
    "accesses",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("id", String, nullable=False, unique=True),
    Column("time_us", BigInteger, nullable=False),
    Column("agent", String, nullable=False),
    Column("session", String, nullable=False),
    Column("ip", String),
    Column("action", String, nullable=False),
    Column("customer", String),
    Column("object", String),
    Column("fields", Text, nullable=False),  # JSON list of data fields in clear
    Column("masked_fields", Text, nullable=False),  # JSON list of data fields masked
    Column("ticket", String),
    Column("reason", String),
    Column("query", String),
    Column("results", Text),  # JSON list of customer ids, customer.search only
    Column("outcome", String, nullable=False),
    Column("deny_reason", String),
    Column("extra", Text),
)
Index("ix_accesses_agent_time", accesses.c.agent, accesses.c.time_us)
Index("ix_accesses_customer_time", accesses.c.customer, accesses.c.time_us)
Index("ix_accesses_session", accesses.c.session, accesses.c.time_us)

# One row per customer listed in a customer.search's results, so "events touching
# customer C" includes the searches that showed C's name.
search_results = Table(
    "search_results",
    metadata,
    Column("customer", String, primary_key=True),
    Column("time_us", BigInteger, primary_key=True),
    Column("access_seq", BigInteger, primary_key=True),
)

# What Vigile itself did or decided (grants, containment, incidents, remediation):
# append-only, numbered in the same ``seq`` as the activity, so in the ledger too.
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("id", String, nullable=False, unique=True),
    Column("time_us", BigInteger, nullable=False),
    Column("action", String, nullable=False),
    Column("actor", String, nullable=False),
    Column("subject", String),
    Column("customer", String),
    Column("details", Text, nullable=False),  # JSON object
)
Index("ix_audit_events_subject_time", audit_events.c.subject, audit_events.c.time_us)
Index("ix_audit_events_customer_time", audit_events.c.customer, audit_events.c.time_us)

# The ledger (vigile.ledger): one row per entry, ``idx`` its leaf index (= the event's
# ``seq``), ``hashes`` its leaf hash followed by the hashes of the perfect subtrees its
# append completed (level 1, 2, ...): node (level L, index k) is bytes [32L, 32L + 32) of
# entry (k + 1) * 2^L - 1. One row per append, every node findable by primary key.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("idx", SEQ, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)

# The leaf hash of every stored event, written in the transaction that stores it (``idx``
# its ``seq``, ``time_us`` when it was stored; NULL for leaves integrated before this table
# existed). The integrator (vigile.ledger.integrate) builds the tree from these rows,
# apart from the requests: entries in ``ledger_entries`` follow, up to a short delay.
ledger_leaves = Table(
    "ledger_leaves",
    metadata,
    Column("idx", SEQ, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
    Column("time_us", BigInteger),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("time_us", BigInteger, nullable=False),
    Column("note", Text, nullable=False),  # the signed note, c2sp.org/tlog-checkpoint
)
Index("ix_ledger_checkpoints_size", ledger_checkpoints.c.size)

EVENT_TABLES = (ticket_events, signins, accesses, audit_events)
APPEND_ONLY_TABLES = (
    *EVENT_TABLES,
    search_results,
    ledger_leaves,
    ledger_entries,
    ledger_checkpoints,
)

# Bearer tokens of customers for the transparency API (vigile.transparency.tokens). Only
# the token's SHA-256 is stored: a leaked table grants nothing. Revocation sets
# ``revoked_us`` (NULL: valid), so the table is mutable, not append-only.
customer_tokens = Table(
    "customer_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # hex SHA-256 of the token
    Column("customer", String, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
)
Index("ix_customer_tokens_customer", customer_tokens.c.customer)

# Breach response (vigile.respond), on the migration branch ``respond``. Incident state,
# notification and remediation progress are mutable here; every change is also an audit
# event in the ledger. Rename history and retired usernames are kept here because the
# directory tables are upserted (an account row shows only its latest username).
incidents = Table(
    "incidents",
    metadata,
    Column("id", String, primary_key=True),
    Column("title", String, nullable=False),
    Column("status", String, nullable=False),
    Column("owner", String),
    Column("alert", String),  # the alert it was opened from, if any
    Column("scope", Text, nullable=False),  # JSON {"agents", "sessions", "ips", "devices"}
    Column("since_us", BigInteger, nullable=False),
    Column("until_us", BigInteger, nullable=False),
    Column("opened_us", BigInteger, nullable=False),
    Column("aware_us", BigInteger, nullable=False),  # GDPR Art. 33: time of awareness
    Column("high_risk", String),  # GDPR Art. 34 assessment: "yes", "no", or NULL (open)
)

incident_notifications = Table(
    "incident_notifications",
    metadata,
    Column("incident", String, primary_key=True),
    Column("customer", String, primary_key=True),
    Column("language", String, nullable=False),
    Column("digest", String(64), nullable=False),  # SHA-256 of the approved message
    Column("status", String, nullable=False),  # drafted, approved, sent
    Column("sent_us", BigInteger),
)

incident_remediations = Table(
    "incident_remediations",
    metadata,
    Column("incident", String, primary_key=True),
    Column("action", String, primary_key=True),  # e.g. "suspend-agent:a-0005"
    Column("applied_us", BigInteger, nullable=False),
)

contact_reverifications = Table(
    "contact_reverifications",
    metadata,
    Column("contact", String, primary_key=True),
    Column("customer", String, nullable=False),
    Column("incident", String, nullable=False),
    Column("marked_us", BigInteger, nullable=False),
)

account_renames = Table(
    "account_renames",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String, nullable=False),
    Column("customer", String, nullable=False),
    Column("old_username", String, nullable=False),
    Column("new_username", String, nullable=False),
    Column("old_email", String),
    Column("new_email", String),
    Column("incident", String),
    Column("time_us", BigInteger, nullable=False),
)
Index("ix_account_renames_account", account_renames.c.account)

retired_usernames = Table(
    "retired_usernames",
    metadata,
    Column("key", String, primary_key=True),  # confusable skeleton of the casefolded name
    Column("username", String, nullable=False),
    Column("account", String, nullable=False),
    Column("customer", String, nullable=False),
    Column("incident", String),
    Column("retired_us", BigInteger, nullable=False),
)

# Detection (vigile.detect). Alerts are mutable (an analyst moves their status); every
# change is also appended to detect_alert_history, and containment requests to
# detect_containment, both append-only. detect_watermarks: the last ``seq`` a streaming
# detector has processed, per detector name.
detect_alerts = Table(
    "detect_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("score", Float, nullable=False),
    Column("first_us", BigInteger, nullable=False),
    Column("last_us", BigInteger, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of sentences
    Column("evidence", Text, nullable=False),  # JSON list of event ids
    Column("status", String, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)
Index("ix_detect_alerts_agent_status", detect_alerts.c.agent, detect_alerts.c.status)

detect_alert_history = Table(
    "detect_alert_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False),
    Column("time_us", BigInteger, nullable=False),
    Column("status", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("score", Float, nullable=False),
    Column("actor", String, nullable=False),
    Column("note", Text),
)
Index("ix_detect_alert_history_alert", detect_alert_history.c.alert_id)

detect_watermarks = Table(
    "detect_watermarks",
    metadata,
    Column("name", String, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

detect_containment = Table(
    "detect_containment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_us", BigInteger, nullable=False),
    Column("agent", String, nullable=False),
    Column("alert_id", Integer),
    Column("reason", Text, nullable=False),
    Column("outcome", String, nullable=False),
)

# The access broker's mutable state (vigile.broker). Every change is also an audit event
# in the ledger; these tables only answer "what holds now" quickly.
# Just-in-time grants: never deleted (history kept forever); times in microseconds.
broker_grants = Table(
    "broker_grants",
    metadata,
    Column("id", String, primary_key=True),
    Column("agent", String, nullable=False),
    Column("customer", String, nullable=False),
    Column("classes", Text, nullable=False),  # JSON list of field classes
    Column("reason", String, nullable=False),
    Column("ticket", String),
    Column("duration_s", Integer, nullable=False),
    Column("status", String, nullable=False),  # pending approved denied expired revoked
    Column("lockbox", Integer, nullable=False),  # 1: only the customer may approve
    Column("customer_approved", Integer, nullable=False),
    Column("requested_us", BigInteger, nullable=False),
    Column("decided_us", BigInteger),
    Column("decided_by", String),
    Column("starts_us", BigInteger),
    Column("expires_us", BigInteger),
    Column("ended_us", BigInteger),  # revoked or expired
    Column("ended_by", String),
)
Index("ix_broker_grants_agent_customer", broker_grants.c.agent, broker_grants.c.customer)
Index("ix_broker_grants_status", broker_grants.c.status)

# Approvals of one exact call of an AI agent (its tool, the digest of its arguments, the
# policy version it was decided under) by the agent's supervising human.
broker_call_approvals = Table(
    "broker_call_approvals",
    metadata,
    Column("id", String, primary_key=True),
    Column("agent", String, nullable=False),
    Column("tool", String, nullable=False),
    Column("customer", String, nullable=False),
    Column("digest", String, nullable=False),
    Column("policy_version", String, nullable=False),
    Column("supervisor", String, nullable=False),
    Column("status", String, nullable=False),  # pending approved denied used
    Column("requested_us", BigInteger, nullable=False),
    Column("decided_us", BigInteger),
    Column("decided_by", String),
    Column("expires_us", BigInteger),
    Column("used_us", BigInteger),
)
Index(
    "ix_broker_call_approvals_call",
    broker_call_approvals.c.agent,
    broker_call_approvals.c.tool,
    broker_call_approvals.c.digest,
)

# Agents' sessions opened through the broker (revoked all at once on suspension).
broker_sessions = Table(
    "broker_sessions",
    metadata,
    Column("session", String, primary_key=True),
    Column("agent", String, nullable=False),
    Column("opened_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
)
Index("ix_broker_sessions_agent", broker_sessions.c.agent)

# Suspended agents (containment): one row per agent while suspended.
broker_suspensions = Table(
    "broker_suspensions",
    metadata,
    Column("agent", String, primary_key=True),
    Column("since_us", BigInteger, nullable=False),
    Column("actor", String, nullable=False),
    Column("reason", String, nullable=False),
)

# Per agent, the instant before which its tokens are refused (set at suspension and at
# resume): a token issued earlier opens no new session, wherever it was copied to.
broker_not_before = Table(
    "broker_not_before",
    metadata,
    Column("agent", String, primary_key=True),
    Column("since_us", BigInteger, nullable=False),
)

# Local accounts of the web console (embedded mode; OIDC deployments sign in upstream).
# ``subject`` is the agent id (agent, supervisor, analyst) or the customer id (customer).
console_accounts = Table(
    "console_accounts",
    metadata,
    Column("username", String, primary_key=True),
    Column("role", String, nullable=False),
    Column("subject", String, nullable=False),
    Column("password", String, nullable=False),  # scrypt, see vigile.console.accounts
    Column("totp_secret", String),  # base32; none: the account has no second factor
    Column("totp_last_step", BigInteger),  # the last TOTP step used (no replay)
    Column("created_us", BigInteger, nullable=False),
    Column("disabled_us", BigInteger),
)

# Live console sessions (vigile.console.sessions), in the store so every broker process
# knows them: ``id`` is the SHA-256 of the session cookie (the table signs nobody in),
# ``csrf`` the session's form token, ``token`` the broker token it acts with. Deleted at
# sign-out, expiry or revocation; ``seen_us`` moves at most every few seconds.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", LargeBinary, primary_key=True),
    Column("username", String, nullable=False),
    Column("csrf", String, nullable=False),
    Column("token", Text),
    Column("started_us", BigInteger, nullable=False),
    Column("seen_us", BigInteger, nullable=False),
)

# Who a vendor's id is in Vigile (vigile.sources): ``(system, external_id)`` (an Okta
# login, a Zendesk user id...) names an agent (``kind`` "agent") or a customer. Loaded
# by ``vigile directory import``; read by ``vigile ingest --from`` to map vendor logs.
identities = Table(
    "identities",
    metadata,
    Column("system", String, primary_key=True),
    Column("external_id", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("id", String, nullable=False),
)
Index("ix_identities_kind_id", identities.c.kind, identities.c.id)

# The event lake (vigile.lake): per lake (the id in its marker file), the highest leaf
# index exported so far. Mutable (one row per lake); what is in the lake is the lake's.
lake_exports = Table(
    "lake_exports",
    metadata,
    Column("lake", String, primary_key=True),
    Column("leaf", BigInteger, nullable=False),
    Column("location", Text, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)
