"""Every setting of Vigile in one typed object, read from the environment.

Each setting is documented in ``docs/configuration.md``; a test fails when one is not.
Risky behaviour is off unless turned on.
"""

from __future__ import annotations

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

    @property
    def db_path(self) -> Path | None:
        """The SQLite file when the store is a plain path, else ``None``."""
        return None if "://" in self.db else Path(self.db)


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
