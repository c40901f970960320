"""Signed tree heads in the checkpoint format of c2sp.org/tlog-checkpoint.

A checkpoint is a signed note (:mod:`vigile.ledger.note`) whose text is::

    <origin>\\n                       the log's identity, e.g. vigile.example/access-ledger
    <tree size>\\n                    decimal, no leading zeros
    <base64 root hash>\\n             RFC 9162 root of the tree of that size
    time 2026-05-01T12:00:00Z\\n      optional extension line (Vigile's)

The specification allows opaque, non-empty *extension lines* after the three mandatory
ones (and discourages them, as monitors cannot audit them and ML-DSA cosignatures do not
sign them). Vigile uses one, ``time <RFC 3339 UTC, whole seconds>``, so a checkpoint says
when the log committed to its size; it is signed with the rest of the text. Other
extension lines are kept, in order, as opaque strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from vigile.ledger.encoding import decode_b64, encode_b64
from vigile.ledger.errors import CheckpointError
from vigile.ledger.hashing import HASH_SIZE
from vigile.ledger.note import Signer, Verifier, open_note, sign_note

__all__ = ["TIME_EXTENSION", "Checkpoint", "parse_and_verify", "sign_checkpoint"]

TIME_EXTENSION = "time "
"""Prefix of Vigile's extension line carrying the checkpoint's time."""

_MAX_SIZE = 2**64 - 1  # tree sizes are uint64 in every implementation of the format
_SIZE = re.compile(r"0|[1-9][0-9]*")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """A log's commitment to its tree of ``size`` leaves with root hash ``root``.

    ``time``, when given, must be timezone-aware; it is kept in UTC at whole seconds,
    the precision it is written with.
    """

    origin: str
    size: int
    root: bytes
    time: datetime | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointError(f"tree size {self.size} is not a uint64")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root hash has {len(self.root)} bytes, want {HASH_SIZE}")
        for line in self.extensions:
            _check_line(line, "extension line")
            if line.startswith(TIME_EXTENSION):
                raise CheckpointError("give the time as `time`, not as an extension line")
        if self.time is not None:
            object.__setattr__(self, "time", _whole_utc_seconds(self.time))

    def text(self) -> str:
        """Return the note text this checkpoint is signed as."""
        lines = [self.origin, str(self.size), encode_b64(self.root)]
        if self.time is not None:
            lines.append(TIME_EXTENSION + self.time.strftime(_TIME_FORMAT))
        lines.extend(self.extensions)
        return "\n".join(lines) + "\n"


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """Return ``checkpoint`` as a signed note, signed by ``signer``."""
    return sign_note(checkpoint.text(), [signer])


def parse_and_verify(
    note: str | bytes, verifier: Verifier, *, origin: str | None = None
) -> Checkpoint:
    """Check the signature of a checkpoint note, then parse and return the checkpoint.

    The checkpoint's origin must be ``origin``, by default the verifier's key name (the
    spec asks logs to name their key after their origin): a key that signs for several
    logs must not let one log's checkpoint pass for another's. Raises
    :class:`CheckpointError`, naming the line, for anything wrong.
    """
    text = open_note(note, verifier)
    checkpoint = _parse_text(text)
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise CheckpointError(
            f"origin {checkpoint.origin!r} is not the expected {expected!r}", line=1
        )
    return checkpoint


def _parse_text(text: str) -> Checkpoint:
    """Parse the text of a checkpoint note. The signature must be checked beforehand."""
    lines = text.removesuffix("\n").split("\n")
    if len(lines) < 3:
        raise CheckpointError(
            "a checkpoint has at least 3 lines: origin, tree size, root hash",
            line=len(lines) + 1,
        )
    origin, size, root, *rest = lines
    if not origin:
        raise CheckpointError("empty origin", line=1)
    time, extensions = _parse_extensions(rest)
    return Checkpoint(
        origin=origin,
        size=_parse_size(size),
        root=_parse_root(root),
        time=time,
        extensions=extensions,
    )


def _parse_size(line: str) -> int:
    if not _SIZE.fullmatch(line):
        raise CheckpointError(f"tree size {line!r} is not a decimal without leading zeros", line=2)
    size = int(line)
    if size > _MAX_SIZE:
        raise CheckpointError(f"tree size {line} does not fit in 64 bits", line=2)
    return size


def _parse_root(line: str) -> bytes:
    root = decode_b64(line)
    if root is None:
        raise CheckpointError("root hash is not canonical standard base64", line=3)
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root hash has {len(root)} bytes, want {HASH_SIZE}", line=3)
    return root


def _parse_extensions(lines: list[str]) -> tuple[datetime | None, tuple[str, ...]]:
    time: datetime | None = None
    others: list[str] = []
    for number, line in enumerate(lines, start=4):
        if not line:
            raise CheckpointError("empty extension line", line=number)
        if not line.startswith(TIME_EXTENSION):
            others.append(line)
            continue
        if time is not None:
            raise CheckpointError("a second time line", line=number)
        time = _parse_time(line.removeprefix(TIME_EXTENSION), number)
    return time, tuple(others)


def _parse_time(value: str, number: int) -> datetime:
    if not _TIME.fullmatch(value):
        raise CheckpointError(f"time {value!r} is not YYYY-MM-DDTHH:MM:SSZ", line=number)
    try:
        return datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise CheckpointError(f"time {value!r} is not a valid date", line=number) from exc


def _whole_utc_seconds(time: datetime) -> datetime:
    if time.tzinfo is None or time.utcoffset() is None:
        raise CheckpointError("checkpoint time must be timezone-aware")
    return time.astimezone(UTC).replace(microsecond=0)


def _check_line(value: str, what: str) -> None:
    if not value or any(c < " " for c in value):
        raise CheckpointError(f"{what} must be one non-empty line without control characters")
