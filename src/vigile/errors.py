"""The one error hierarchy of Vigile.

Every error Vigile raises on purpose derives from :class:`VigileError`, so the CLI and
the HTTP API can turn it into one clear message without a traceback::

    VigileError
    ├── ConfigError                 a setting is missing or wrong
    ├── InputError                  bad input from a user or a file
    │   └── RecordError             one record of an activity log (file, line, field)
    │       └── UnsupportedVersion  a header names a format version we do not read
    ├── StoreError                  the store cannot be opened, migrated or written
    │   ├── StoreNotFound           no store where one was expected
    │   └── StoreLocked             another process holds the write lock
    └── OutputError                 an output file or folder cannot be written

Domains add narrow subclasses next to their code; library errors are translated at the
boundary with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "OutputError",
    "RecordError",
    "StoreError",
    "StoreLocked",
    "StoreNotFound",
    "UnsupportedVersion",
    "VigileError",
]


class VigileError(Exception):
    """Root of every error Vigile raises on purpose."""


class ConfigError(VigileError):
    """A setting is missing or has a wrong value."""


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


class StoreError(VigileError):
    """The store cannot be opened, migrated, read or written."""


class StoreNotFound(StoreError):
    """No store exists where one was expected."""


class StoreLocked(StoreError):
    """Another process holds the store's write lock for longer than we wait."""


class OutputError(VigileError):
    """An output file or folder cannot be written."""
