"""Errors of detection, under :class:`vigile.errors.VigileError`::

VigileError
└── DetectError               detection cannot run
    ├── RuleError             a Sigma rule is invalid (file, rule id)
    └── AlertNotFound         no alert with that id
"""

from __future__ import annotations

from vigile.errors import VigileError

__all__ = ["AlertNotFound", "DetectError", "RuleError"]


class DetectError(VigileError):
    """Detection cannot run (bad state, bad SQL, bad input)."""


class RuleError(DetectError):
    """A detection rule cannot be read, converted or run; names the file and the rule."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.reason = message
        super().__init__(f"{source}: {message}")


class AlertNotFound(DetectError):
    """No alert has the id given."""
