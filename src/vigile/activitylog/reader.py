"""Stream activity logs (shared/spec/activity-log.md) from `.jsonl` or `.jsonl.gz`.

Memory stays constant whatever the file's size: one line at a time. Errors read
``FILE:LINE: field: message``. By default the first invalid line raises; with
``skip_invalid`` such lines are counted (the first few kept for the report) and skipped.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from vigile.activitylog.codec import InvalidField, decode
from vigile.errors import InputError, RecordError, UnsupportedVersion
from vigile.model import Record

__all__ = ["FORMAT", "VERSION", "ActivityLogReader", "ReadReport"]

FORMAT = "vigile-activity"
VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(kw_only=True, slots=True)
class ReadReport:
    """What a reader saw: lines read, records decoded, invalid lines skipped."""

    lines: int = 0
    records: int = 0
    skipped: int = 0
    errors: list[RecordError] = field(default_factory=list)


class ActivityLogReader:
    """Iterate over the records of one activity log, in file order.

    ``position`` and ``size`` (bytes of the file on disk, compressed or not) drive
    progress bars.
    """

    def __init__(self, path: Path, *, skip_invalid: bool = False, keep_errors: int = 20) -> None:
        self.path = Path(path)
        self.skip_invalid = skip_invalid
        self.keep_errors = keep_errors
        self.report = ReadReport()
        try:
            self.size = self.path.stat().st_size
        except FileNotFoundError:
            raise InputError(f"{self.path}: no such file") from None
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror}") from exc
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder, not an activity log")
        self._raw: IO[bytes] | None = None

    @property
    def position(self) -> int:
        """Bytes of the file consumed so far."""
        raw = self._raw
        return 0 if raw is None or raw.closed else raw.tell()

    def __iter__(self) -> Iterator[Record]:
        with ExitStack() as stack:
            yield from self._records(self._open(stack))

    def _open(self, stack: ExitStack) -> IO[bytes]:
        try:
            raw = stack.enter_context(open(self.path, "rb"))
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror}") from exc
        self._raw = raw
        if raw.peek(2)[:2] == _GZIP_MAGIC:
            unzipped = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            return stack.enter_context(io.BufferedReader(unzipped, 1 << 20))
        return raw

    def _records(self, lines: IO[bytes]) -> Iterator[Record]:
        source = str(self.path)
        report = self.report
        loads = orjson.loads
        number = 0
        try:
            for number, line in enumerate(lines, start=1):  # noqa: B007 - used after the loop
                if not line.strip():
                    continue
                report.lines += 1
                try:
                    obj = loads(line)
                    if type(obj) is dict and obj.get("kind") == "header":
                        _check_header(obj, first=report.lines == 1)
                        continue
                    record = decode(obj)
                except (InvalidField, orjson.JSONDecodeError) as exc:
                    self._invalid(_located(source, number, exc))
                    continue
                report.records += 1
                yield record
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{source}:{number + 1}: cannot read: {exc}") from exc

    def _invalid(self, error: RecordError) -> None:
        if isinstance(error, UnsupportedVersion) or not self.skip_invalid:
            raise error
        self.report.skipped += 1
        if len(self.report.errors) < self.keep_errors:
            self.report.errors.append(error)


def _check_header(obj: dict[str, object], *, first: bool) -> None:
    if not first:
        raise InvalidField("kind", "a header must be the first line")
    if obj.get("format") != FORMAT:
        raise _UnsupportedHeader("format", f"expected {FORMAT!r}, got {obj.get('format')!r}")
    if obj.get("version") != VERSION:
        version = obj.get("version")
        raise _UnsupportedHeader("version", f"version {version!r} is not supported (only 1)")


class _UnsupportedHeader(InvalidField):
    """A header this reader cannot honour: never skipped."""


def _located(source: str, line: int, exc: Exception) -> RecordError:
    if isinstance(exc, _UnsupportedHeader):
        return UnsupportedVersion(source, line, exc.field, exc.message)
    if isinstance(exc, InvalidField):
        return RecordError(source, line, exc.field, exc.message)
    message = str(exc).split(":", 1)[0] if isinstance(exc, orjson.JSONDecodeError) else str(exc)
    return RecordError(source, line, "json", f"not a JSON object: {message}")

