"""Write activity logs (docs/spec/activity-log.md) as `.jsonl` or `.jsonl.gz`.

The file appears only when writing succeeds: records go to a temporary file beside the
target, renamed into place on close. An error on the way leaves no half-written log.
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import orjson

from vigile.errors import OutputError

__all__ = ["HEADER", "ActivityLogWriter"]

HEADER: Mapping[str, Any] = {"kind": "header", "format": "vigile-activity", "version": 1}


class ActivityLogWriter:
    """Streams records to an activity log; gzip when the name ends in ``.gz``.

    Use as a context manager: the file is published atomically on a clean exit and
    discarded on an exception.
    """

    def __init__(self, path: Path, *, header: bool = True, compresslevel: int = 6) -> None:
        self.path = Path(path)
        self.count = 0
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write here: {exc.strerror}") from exc
        self._tmp = Path(tmp)
        raw = os.fdopen(fd, "wb")
        self._raw = raw
        self._out: gzip.GzipFile | io.BufferedWriter = (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel, mtime=0)
            if self.path.suffix == ".gz"
            else raw
        )
        if header:
            self._out.write(orjson.dumps(HEADER) + b"\n")

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record (a JSON object with ``kind``)."""
        self._out.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        self.count += 1

    def write_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        lines = [dumps(r, option=option) for r in records]
        self._out.write(b"".join(lines))
        self.count += len(lines)

    def write_raw_lines(self, data: bytes) -> None:
        """Append lines already encoded as JSON (each ending in a newline)."""
        self._out.write(data)
        self.count += data.count(b"\n")

    def close(self) -> None:
        """Flush, sync and publish the file under its final name."""
        if self._out is not self._raw:
            self._out.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.chmod(self._tmp, 0o644)
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        """Drop everything written so far; the target is left untouched."""
        try:
            if self._out is not self._raw:
                self._out.close()
            self._raw.close()
        finally:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()
