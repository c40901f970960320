"""Errors of detection, under :class:`vigile.errors.VigileError`::

VigileError
├── InternalError
│   └── DetectError           detection cannot run (its store, DuckDB, its own state)
│       └── RuleError         a Sigma rule is invalid (file, rule id)
└── NotFound
    └── AlertNotFound         no alert with that id
"""

from __future__ import annotations

from vigile.errors import InternalError, NotFound

__all__ = ["AlertNotFound", "DetectError", "RuleError"]


class DetectError(InternalError):
    """Detection cannot run (bad state, bad SQL, bad input)."""


class RuleError(DetectError):
    """A detection rule cannot be read, converted or run; names the file and the rule."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.reason = message
        super().__init__(f"{source}: {message}")


class AlertNotFound(NotFound):
    """No alert has the id given (a caller's miss, not detection failing: not a
    :class:`DetectError`)."""
