"""Local accounts of the web console (the embedded mode; behind an OIDC proxy the
identity comes from upstream, see docs/console.md).

Passwords are stored as scrypt hashes; a second factor (TOTP) is optional per account, but
the broker refuses agents without one while ``VIGILE_BROKER_REQUIRE_MFA`` is on. Each
account has one role and one subject: the agent it acts as (agent, supervisor, analyst)
or the customer it speaks for (customer).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, or_, select, update

from vigile.console import totp
from vigile.errors import InputError
from vigile.model.times import to_micros
from vigile.store import Store
from vigile.store.engine import connect, write_transaction
from vigile.store.tables import console_accounts

__all__ = ["ROLES", "Account", "AccountError", "ConsoleAccounts", "hash_password"]

#: What a console account may be: the broker's roles, plus the customer's approver.
ROLES = ("agent", "supervisor", "analyst", "customer")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_MIN_PASSWORD = 12
# scrypt cost: about 50 ms and 16 MiB per check on this class of machine (OWASP minimum).
_N, _R, _P = 2**14, 8, 1


class AccountError(InputError):
    """An account cannot be created or changed as asked (a bad name, role, password or
    subject; a name taken; no such account). Only ``vigile console`` manages accounts,
    so one input error serves them all."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Account:
    username: str
    role: str
    subject: str
    totp_secret: str | None

    @property
    def has_mfa(self) -> bool:
        return self.totp_secret is not None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def _matches(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        computed = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest)


# Checked against when the username is unknown, so both cases cost the same.
_DECOY = hash_password(secrets.token_hex(16))


class ConsoleAccounts:
    """The console's accounts in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        username: str,
        *,
        role: str,
        subject: str,
        password: str,
        mfa: bool = True,
        now: datetime | None = None,
    ) -> Account:
        """A new account; with ``mfa`` it gets a TOTP secret (returned once, to enrol)."""
        if not _USERNAME.match(username):
            raise AccountError(
                f"username {username!r}: 2-64 characters, lower-case letters, digits and ._@-"
            )
        if role not in ROLES:
            raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
        if len(password) < _MIN_PASSWORD:
            raise AccountError(f"password: at least {_MIN_PASSWORD} characters")
        self._check_subject(role, subject)
        secret = totp.new_secret() if mfa else None
        row: dict[str, Any] = {
            "username": username,
            "role": role,
            "subject": subject,
            "password": hash_password(password),
            "totp_secret": secret,
            "created_us": to_micros(now or datetime.now(UTC)),
        }
        with write_transaction(self.store.engine) as conn:
            if conn.execute(
                select(console_accounts.c.username).where(console_accounts.c.username == username)
            ).first():
                raise AccountError(f"username {username!r} is taken")
            conn.execute(insert(console_accounts).values(**row))
        return Account(username=username, role=role, subject=subject, totp_secret=secret)

    def disable(self, username: str, *, now: datetime | None = None) -> None:
        with write_transaction(self.store.engine) as conn:
            done = conn.execute(
                update(console_accounts)
                .where(console_accounts.c.username == username)
                .values(disabled_us=to_micros(now or datetime.now(UTC)))
            )
            if not done.rowcount:
                raise AccountError(f"no account {username!r}")

    def get(self, username: str) -> Account | None:
        """The enabled account of that name, if any."""
        with connect(self.store.engine) as conn:
            row = _enabled(conn, username)
        return None if row is None else _account(row)

    def all(self) -> list[tuple[Account, bool]]:
        """Every account with whether it is enabled, by username."""
        with connect(self.store.engine) as conn:
            rows = conn.execute(
                select(console_accounts).order_by(console_accounts.c.username)
            ).mappings()
            return [(_account(row), row["disabled_us"] is None) for row in rows]

    def check(self, username: str, password: str, code: str, *, now: datetime) -> Account | None:
        """The account when the password (and, if it has one, the TOTP code) match."""
        with connect(self.store.engine) as conn:
            row = _enabled(conn, username.strip().lower())
        if row is None:
            _matches(password, _DECOY)
            return None
        if not _matches(password, row["password"]):
            return None
        secret = row["totp_secret"]
        if secret is not None and not self._spend(row, code, now):
            return None
        return _account(row)

    def _spend(self, row: RowMapping, code: str, now: datetime) -> bool:
        """Whether ``code`` is a valid TOTP code not used before; it is used up now. The
        step is recorded only if no concurrent sign-in recorded it first."""
        last = row["totp_last_step"]
        step = totp.match(row["totp_secret"], code, now, after=-1 if last is None else last)
        if step is None:
            return False
        table = console_accounts
        with write_transaction(self.store.engine) as conn:
            done = conn.execute(
                update(table)
                .where(
                    table.c.username == row["username"],
                    or_(table.c.totp_last_step.is_(None), table.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
        return bool(done.rowcount)

    def _check_subject(self, role: str, subject: str) -> None:
        if role == "customer":
            if self.store.customer(subject) is None:
                raise AccountError(f"subject {subject!r}: no such customer")
        elif role == "agent" and self.store.agent(subject) is None:
            raise AccountError(f"subject {subject!r}: no such agent in the directory")


def _enabled(conn: Connection, username: str) -> RowMapping | None:
    return (
        conn.execute(
            select(console_accounts).where(
                console_accounts.c.username == username,
                console_accounts.c.disabled_us.is_(None),
            )
        )
        .mappings()
        .first()
    )


def _account(row: RowMapping) -> Account:
    return Account(
        username=row["username"],
        role=row["role"],
        subject=row["subject"],
        totp_secret=row["totp_secret"],
    )
