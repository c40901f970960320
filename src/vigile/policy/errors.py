"""Errors of the policy domain::

VigileError
└── InternalError
    └── PolicyError           the policies cannot be used
        └── InvalidPolicy     one policy file is wrong (file, line, message)
"""

from __future__ import annotations

from vigile.errors import InternalError

__all__ = ["InvalidPolicy", "PolicyError"]


class PolicyError(InternalError):
    """The policies or the schema cannot be used."""


class InvalidPolicy(PolicyError):
    """A policy does not parse or does not validate against the schema.

    The message reads ``FILE:LINE: message`` so editors and CI logs can jump to it.
    """

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source = source
        self.line = line
        self.reason = message
        super().__init__(f"{source}:{line}: {message}")
