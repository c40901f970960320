"""The lake's errors: a folder that is not a lake, a file that is not the lake's."""

from __future__ import annotations

from vigile.errors import InputError

__all__ = ["LakeError"]


class LakeError(InputError):
    """The lake named cannot be used: not Vigile's, foreign files, unreachable."""
