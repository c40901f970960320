"""Every setting of Vigile in one typed object, read from the environment.

Each setting is documented in ``docs/configuration.md``; a test fails when one is not.
Risky behaviour is off unless turned on.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from vigile.errors import ConfigError

__all__ = ["DEFAULT_DB", "Settings"]

DEFAULT_DB = "vigile.db"


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """Vigile's settings. ``Settings.from_env()`` reads ``VIGILE_<NAME>`` variables."""

    #: The store: an SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``)
    #: or a plain file path (SQLite).
    db: str = DEFAULT_DB
    #: How long a writer waits for another process's lock on an SQLite store, in seconds.
    db_lock_timeout: float = 5.0
    #: Events written per batch by ``vigile ingest`` (memory versus round trips).
    ingest_batch: int = 5_000
    #: The ledger's checkpoint signing key (created, mode 0600, with the first checkpoint);
    #: its public key is the same path plus ``.pub``.
    ledger_key: str = "vigile-ledger.key"
    #: The ledger's name in its checkpoints (and its key's name).
    ledger_origin: str = "vigile.local/access-ledger"
    #: A checkpoint is signed at least every this many ledger entries...
    checkpoint_every: int = 10_000
    #: ... and at least every this many seconds while entries arrive.
    checkpoint_seconds: float = 60.0
    #: A file where the latest checkpoint is published after each commit (empty: none).
    #: Keep it outside the database: it is what detects a truncated ledger.
    checkpoint_file: str = ""
    #: Who extends the ledger's tree from the stored leaves: ``embedded`` (the process that
    #: records: an integrator thread in ``vigile serve``, right after each commit in the
    #: other commands) or ``external`` (a ``vigile ledger integrate`` process, and its
    #: standbys; the recording processes only store).
    integrator: str = "embedded"
    #: The longest a stored event should wait for its leaf in the tree, in seconds: the
    #: integrator looks for new leaves at least four times as often, and ``/health`` and
    #: ``vigile ledger status`` call the ledger lagging past it.
    integration_delay: float = 1.0
    #: Leaves the integrator takes per transaction.
    integration_batch: int = 20_000
    #: A folder of Jinja2 templates overriding the built-in customer notifications
    #: (``notification/<language>/subject.txt.j2``, ``body.txt.j2``, ``body.html.j2``).
    notify_templates: str = ""
    #: Where notifications are written: ``preview/`` for drafts, ``sent/`` once sent.
    notify_outbox: str = "vigile-outbox"
    #: The sender of customer notifications (RFC 5322 ``From``).
    notify_from: str = "security@vigile.local"
    #: The key of the notifications' verification codes (created, mode 0600, with the
    #: first notification rendered; never replaced: codes sent would stop checking out).
    notify_code_key: str = "vigile-notify-code.key"
    #: Where a customer checks a notification's code (printed in every notification).
    notify_verify_url: str = "https://vigile.local/console/customer/verify"
    #: Delivery channels of notifications, by name, in order (see ``vigile.respond``).
    notify_channels: str = "outbox,smtp"
    #: The SMTP server notifications are sent through (empty: none, nothing is sent).
    smtp_host: str = ""
    #: Its port.
    smtp_port: int = 25
    #: Severity (``high``, ``critical``...) at which streaming detection asks containment
    #: to suspend the agent on its own (empty: never; an analyst decides).
    detect_contain: str = ""
    #: A folder of the user's Sigma rules (``*.yml``), run beside the shipped pack.
    detect_rules: str = ""
    #: Seconds ``vigile detect --follow`` waits between looks for new events.
    detect_poll_seconds: float = 5.0
    #: Active hours an agent needs before it is judged against its own baseline
    #: (before that, against its team's).
    detect_min_history: int = 40
    #: Events batch detection reads and folds at a time (its memory follows this, not
    #: the size of the history).
    detect_batch_events: int = 1_000_000
    #: DuckDB's memory limit for detection (``2GB``...; empty: ``1GB``); beyond it DuckDB
    #: spills its tables and operators to a private folder in ``detect_temp_dir``.
    detect_memory_limit: str = ""
    #: Where detection makes its spill folder, one per run, readable by this user only
    #: and removed afterwards (empty: the system's temporary folder, ``TMPDIR``).
    detect_temp_dir: str = ""
    #: A folder of custom Cedar policies (``*.cedar``) loaded beside the broker's defaults
    #: and validated against its schema at start-up (empty: defaults only).
    broker_policies: str = ""
    #: The key (created, mode 0600, on first use) that signs the broker's local tokens.
    broker_token_key: str = "vigile-broker.key"  # noqa: S105 - a file path, not a secret
    #: Hours a locally issued agent token stays valid.
    broker_token_hours: float = 8.0
    #: The OIDC issuer whose JWTs authenticate agents (empty: local tokens only).
    broker_oidc_issuer: str = ""
    #: The audience the OIDC tokens must name.
    broker_oidc_audience: str = "vigile-broker"
    #: A JWKS file with the issuer's public keys (read at start-up, never fetched).
    broker_oidc_jwks: str = ""
    #: 1: a sign-in without a second factor (MFA claim) is refused; 0: accepted.
    broker_require_mfa: int = 1
    #: Distinct customers an agent may reach per hour.
    broker_customers_per_hour: int = 30
    #: Reveals (data in clear) an agent may obtain per hour.
    broker_reveals_per_hour: int = 20
    #: Distinct customers an AI agent may reach per hour (the lower of this and its team's).
    broker_ai_customers_per_hour: int = 10
    #: Reveals an AI agent may obtain per hour (the lower of this and its team's).
    broker_ai_reveals_per_hour: int = 5
    #: Team overrides of both limits: ``team=customers/reveals`` separated by commas.
    broker_velocity_teams: str = ""
    #: 1: exceeding a velocity limit also suspends the agent; 0: only denies.
    broker_velocity_suspend: int = 0
    #: The longest a grant may last once approved, in hours.
    broker_grant_max_hours: float = 8.0
    #: Hours an unattended grant request waits before it expires.
    broker_grant_pending_hours: float = 4.0
    #: Customer tiers whose grants only the customer's own approver may approve (lockbox).
    broker_lockbox_tiers: str = "government"
    #: Shortest query a customer search accepts.
    broker_search_min_length: int = 3
    #: Most customers a search returns.
    broker_search_limit: int = 20
    #: Channels that tell approvers about grant requests, by name (``log,webhook,email``).
    broker_notify: str = "log"
    #: The URL the ``webhook`` channel posts grant requests to.
    broker_webhook_url: str = ""
    #: The SMTP server of the ``email`` channel.
    broker_smtp_host: str = "localhost"
    #: The SMTP port of the ``email`` channel.
    broker_smtp_port: int = 25
    #: The sender of the ``email`` channel's messages.
    broker_notify_from: str = "vigile@localhost"
    #: The approvers' addresses for the ``email`` channel, comma-separated.
    broker_notify_to: str = ""
    #: SHA-256 (hex) of the ticketing system's credential for the integration endpoint
    #: (empty: the endpoint refuses everyone).
    broker_integration_token: str = ""
    #: Most events written per group commit by the broker.
    broker_commit_batch: int = 512
    #: Most database connections the broker holds open for its reads; a request that
    #: finds them all busy waits for one (up to ``db_lock_timeout``).
    broker_read_connections: int = 16
    #: Minutes of inactivity after which a web console session ends.
    console_idle_minutes: float = 30.0
    #: Hours after which a web console session ends, active or not.
    console_session_hours: float = 8.0
    #: 1: console cookies are marked Secure even on plain HTTP (behind a TLS proxy);
    #: 0: only when the request itself came over HTTPS.
    console_secure_cookies: int = 0
    #: The provider's own domains, comma-separated, that phishing imitates (empty: the
    #: domain of ``notify_from``).
    phish_provider_domains: str = ""
    #: The names a sender claiming to be the provider would use in its display name,
    #: comma-separated (empty: the first label of each provider domain).
    phish_provider_names: str = ""
    #: A file of DKIM public keys (``SELECTOR._domainkey.DOMAIN v=DKIM1; k=rsa; p=...``,
    #: one a line) the message check verifies signatures with; never asked of DNS
    #: (empty: signatures are not verified).
    phish_dkim_keys: str = ""
    #: The receiving servers (authserv-id), comma-separated, whose
    #: ``Authentication-Results`` the message check believes (empty: the topmost header).
    phish_authserv_ids: str = ""
    #: SHA-256 (hex) of the mail gateway's credential for ``POST /v1/mail/check`` (empty:
    #: the endpoint refuses everyone).
    phish_gateway_token: str = ""
    #: Seconds the API keeps a watch list before building it again from the incidents.
    phish_watchlist_seconds: float = 60.0
    #: Largest message ``POST /v1/mail/check`` accepts, in bytes.
    serve_mail_body_bytes: int = 2_097_152
    #: Largest request body, in bytes, of any route without a limit of its own.
    serve_body_bytes: int = 1_048_576
    #: Largest request body of the sign-in routes (``/v1/signin-check``, the console's
    #: login and logout): what anyone may send before being authenticated.
    serve_signin_body_bytes: int = 16_384
    #: Largest request body of the ticket feed (``/v1/integrations/tickets``: up to
    #: 10,000 records).
    serve_tickets_body_bytes: int = 16_777_216
    #: Seconds a request has, from its start, to deliver its whole body (else 408).
    serve_body_seconds: float = 30.0
    #: Most connections served at once; a request beyond them is answered 503.
    serve_max_connections: int = 256
    #: The reverse proxies, by address or network (comma-separated), whose
    #: ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed (empty: nobody's).
    serve_trusted_proxies: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``VIGILE_*`` variables, defaults for the rest."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            raw = env.get(f"VIGILE_{spec.name.upper()}")
            if raw is None or raw == "":
                continue
            values[spec.name] = _convert(spec.name, spec.type, raw)
        return cls(**values)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        # A bad value stops at start-up with its variable's name, not deep in a command.
        _at_least("ingest_batch", self.ingest_batch, 1)
        if self.ingest_batch > _MAX_BATCH:
            raise ConfigError(
                f"VIGILE_INGEST_BATCH: at most {_MAX_BATCH:,} (a batch's ids are bound "
                f"parameters of one query), got {self.ingest_batch:,}"
            )
        _at_least("checkpoint_every", self.checkpoint_every, 1)
        _at_least("checkpoint_seconds", self.checkpoint_seconds, 0.001)
        _at_least("integration_delay", self.integration_delay, 0.001)
        _at_least("integration_batch", self.integration_batch, 1)
        if self.integrator not in ("embedded", "external"):
            raise ConfigError(
                f"VIGILE_INTEGRATOR: 'embedded' or 'external', got {self.integrator!r}"
            )
        _at_least("db_lock_timeout", self.db_lock_timeout, 0)
        _at_least("broker_read_connections", self.broker_read_connections, 1)
        for name in (
            "serve_body_bytes",
            "serve_signin_body_bytes",
            "serve_tickets_body_bytes",
            "serve_mail_body_bytes",
        ):
            _at_least(name, getattr(self, name), 1)
        _at_least("serve_body_seconds", self.serve_body_seconds, 0.001)
        _at_least("serve_max_connections", self.serve_max_connections, 1)
        _check_proxies(self.serve_trusted_proxies)

    @property
    def db_path(self) -> Path | None:
        """The SQLite file when the store is a plain path, else ``None``."""
        return None if "://" in self.db else Path(self.db)


_MAX_BATCH = 30_000


def _at_least(name: str, value: float, lowest: float) -> None:
    if value < lowest:
        raise ConfigError(f"VIGILE_{name.upper()}: must be at least {lowest}, got {value}")


def _check_proxies(proxies: str) -> None:
    """Each proxy an address or a network: anything else would silently match nothing."""
    for item in filter(None, (part.strip() for part in proxies.split(","))):
        try:
            ipaddress.ip_network(item)
        except ValueError as exc:
            raise ConfigError(
                f"VIGILE_SERVE_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                "(such as 10.0.0.0/8)"
            ) from exc


def _convert(name: str, kind: object, raw: str) -> object:
    variable = f"VIGILE_{name.upper()}"
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{variable}: expected a number, got {raw!r}") from exc
    return raw
