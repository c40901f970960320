"""Breach response: incidents, blast radius, notifications, remediation, regulatory clock.

An incident is a scope (agents, sessions, addresses, devices) and a time window. Its blast
radius is computed from the stored events; every action taken on it is an audit event in
the ledger, and every read of customer data it shows a person is that customer's access
(:mod:`vigile.respond.reads`).
"""

from vigile.respond.blast import (
    CATEGORIES,
    BlastRadius,
    BlastSummary,
    CustomerExposure,
    blast_radius,
    category_of,
)
from vigile.respond.channels import (
    CHANNELS,
    Channel,
    OutboxChannel,
    SmtpChannel,
    channels_for,
    register_channel,
)
from vigile.respond.clock import ART33_DELAY, RegulatoryClock
from vigile.respond.errors import (
    DeliveryError,
    IncidentClosed,
    IncidentNotFound,
    InvalidScope,
    NotificationNotReady,
    UnknownAccount,
)
from vigile.respond.incidents import (
    Clock,
    Incident,
    Incidents,
    IncidentStatus,
    TimelineEntry,
    utc_now,
)
from vigile.respond.marks import IncidentMark, incident_marks
from vigile.respond.notices import Notice, NoticeFacts, Templates
from vigile.respond.notifications import Delivery, Notifications, Preview, digest_of
from vigile.respond.reads import Reader, Shown, incident_reads
from vigile.respond.remediation import (
    ActionKind,
    AgentSuspension,
    PlannedAction,
    Remediation,
    Rename,
)
from vigile.respond.report import BreachRecord, breach_record, render_html
from vigile.respond.retired import (
    SigninDecision,
    check_registration,
    check_signin,
    username_keys,
)
from vigile.respond.scope import Scope, parse_time

__all__ = [
    "ART33_DELAY",
    "CATEGORIES",
    "CHANNELS",
    "ActionKind",
    "AgentSuspension",
    "BlastRadius",
    "BlastSummary",
    "BreachRecord",
    "Channel",
    "Clock",
    "CustomerExposure",
    "Delivery",
    "DeliveryError",
    "Incident",
    "IncidentClosed",
    "IncidentMark",
    "IncidentNotFound",
    "IncidentStatus",
    "Incidents",
    "InvalidScope",
    "Notice",
    "NoticeFacts",
    "NotificationNotReady",
    "Notifications",
    "OutboxChannel",
    "PlannedAction",
    "Preview",
    "Reader",
    "RegulatoryClock",
    "Remediation",
    "Rename",
    "Scope",
    "Shown",
    "SigninDecision",
    "SmtpChannel",
    "Templates",
    "TimelineEntry",
    "UnknownAccount",
    "blast_radius",
    "breach_record",
    "category_of",
    "channels_for",
    "check_registration",
    "check_signin",
    "digest_of",
    "incident_marks",
    "incident_reads",
    "parse_time",
    "register_channel",
    "render_html",
    "username_keys",
    "utc_now",
]
