"""The one error hierarchy of Vigile, and the one table of how each family is answered.

Every error Vigile raises on purpose derives from :class:`VigileError` and belongs to
exactly one *family*: whose fault it is and what the caller can do about it. The CLI
prints any of them as one line; the HTTP API and the console answer each family with
the status, title and message of :data:`ANSWERS`, the one table (:func:`answer_for`)::

    VigileError
    ├── InputError                  422  bad input from a user or a file
    │   ├── RecordError                  one record of an activity log (file, line, field)
    │   │   └── UnsupportedVersion       a header names a format version we do not read
    │   └── InvalidParameters            request parameters of the wrong type or range
    ├── Unauthenticated             401  no valid credential (token, session, MFA)
    ├── Forbidden                   403  the caller may not do this
    ├── NotFound                    404  no such thing, as far as the caller may know
    ├── Conflict                    409  the thing's state does not allow this now
    ├── StoreError                  503  the store cannot be opened, migrated or written
    │   ├── StoreNotFound                no store where one was expected
    │   └── StoreLocked                  another process holds the write lock
    └── InternalError               500  Vigile cannot do its own part (cause not shown)
        ├── ConfigError                  a setting is missing or wrong
        └── OutputError                  an output file or folder cannot be written

Domains add narrow subclasses next to their code, each under one family (the broker's
``NotFound`` is a ``BrokerError`` and a :class:`NotFound`). A domain may also group its
errors under a root of its own that is in no family (``BrokerError``): such a root is
only ever raised through a subclass. An error in no family is a bug, answered as an
internal error. Library errors are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = [
    "ANSWERS",
    "Answer",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "InputError",
    "InternalError",
    "InvalidParameters",
    "NotFound",
    "OutputError",
    "RecordError",
    "StoreError",
    "StoreLocked",
    "StoreNotFound",
    "Unauthenticated",
    "UnsupportedVersion",
    "VigileError",
    "answer_for",
    "family_of",
    "status_of",
]


class VigileError(Exception):
    """Root of every error Vigile raises on purpose."""


class InputError(VigileError):
    """Input given by a user or read from a file is not acceptable."""


class RecordError(InputError):
    """One record of an activity log is invalid.

    The message reads ``FILE:LINE: field: message`` so editors and CI logs can jump to it.
    """

    def __init__(self, source: str, line: int, field: str, message: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.reason = message
        super().__init__(f"{source}:{line}: {field}: {message}")

    def __reduce__(self) -> tuple[type[RecordError], tuple[str, int, str, str]]:
        # Decoding runs in worker processes: errors must cross back intact.
        return (type(self), (self.source, self.line, self.field, self.reason))


class UnsupportedVersion(RecordError):
    """The file's header announces a format or version this reader does not know."""


class InvalidParameters(InputError):
    """Parameters of a request (query, path, form, body) that fail their type or range,
    as pydantic found them: one problem a parameter, each named by where it was
    (``query.before: Input should be less than or equal to 253402300799999999``) and
    never with the value given. The API's 422 and the console's error page both say this.
    """

    def __init__(self, problems: Iterable[Mapping[str, Any]]) -> None:
        named = [
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in problems
        ]
        super().__init__("; ".join(named) or "invalid request")


class Unauthenticated(VigileError):
    """No valid credential: missing, expired, revoked, or without its second factor."""


class Forbidden(VigileError):
    """The caller is known but may not do this (a role it lacks, a policy's denial)."""


class NotFound(VigileError):
    """No such thing, as far as the caller may know (another customer's is not shown
    to exist either)."""


class Conflict(VigileError):
    """The thing exists but its state does not allow this now (a grant already decided,
    an incident closed, a step asked out of order)."""


class StoreError(VigileError):
    """The store cannot be opened, migrated, read or written."""


class StoreNotFound(StoreError):
    """No store exists where one was expected."""


class StoreLocked(StoreError):
    """Another process holds the store's write lock for longer than we wait."""


class InternalError(VigileError):
    """Vigile cannot do its own part: a setting, a file it writes, its rules, policies or
    ledger. The caller did nothing wrong and is told nothing of the cause."""


class ConfigError(InternalError):
    """A setting is missing or has a wrong value."""


class OutputError(InternalError):
    """An output file or folder cannot be written."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    """How the HTTP API and the console answer an error of one family."""

    status: int
    #: What a console page calls it.
    title: str
    #: Shown instead of the error's own message: a server's fault says nothing of its cause.
    shown: str | None = None
    #: The ``WWW-Authenticate`` challenge of a 401.
    challenge: str | None = None

    def message(self, error: VigileError) -> str:
        """What the caller is told about ``error``."""
        return self.shown if self.shown is not None else str(error)


#: The one table from error family to answer. Every error is in one family at most.
ANSWERS: Mapping[type[VigileError], Answer] = MappingProxyType(
    {
        InputError: Answer(status=422, title="Invalid request"),
        Unauthenticated: Answer(
            status=401, title="Sign-in needed", challenge='Bearer realm="vigile"'
        ),
        Forbidden: Answer(status=403, title="Not allowed"),
        NotFound: Answer(status=404, title="Not found"),
        Conflict: Answer(status=409, title="Not possible now"),
        StoreError: Answer(
            status=503, title="Unavailable", shown="the store is unavailable; try again later"
        ),
        InternalError: Answer(status=500, title="Internal error", shown="internal error"),
    }
)


def family_of(kind: type[BaseException]) -> type[VigileError] | None:
    """The family an error class belongs to, or ``None`` (a root, or a bug)."""
    return next((c for c in kind.__mro__ if c in ANSWERS), None)


def answer_for(error: BaseException) -> Answer:
    """How to answer ``error``: its family's answer; anything else is an internal error."""
    family = family_of(type(error))
    return ANSWERS[family if family is not None else InternalError]


def status_of(error: BaseException) -> int:
    """The HTTP status of ``error`` (500 for anything not in a family)."""
    return answer_for(error).status
