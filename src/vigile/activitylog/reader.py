"""Stream activity logs (docs/spec/activity-log.md) from `.jsonl` or `.jsonl.gz`.

Memory stays constant whatever the file's size: one line at a time. Errors read
``FILE:LINE: field: message``. By default the first invalid line raises; with
``skip_invalid`` such lines are counted (the first few kept for the report) and skipped.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import orjson

from vigile.activitylog.codec import InvalidField, decode
from vigile.errors import InputError, RecordError, UnsupportedVersion
from vigile.model import ActivityRecord

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["FORMAT", "VERSION", "ActivityLogReader", "DecodedChunk", "ReadReport", "decode_chunk"]

FORMAT = "vigile-activity"
VERSION = 1
_GZIP_MAGIC = b"\x1f\x8b"
T = TypeVar("T")
R = TypeVar("R")


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

    def __iter__(self) -> Iterator[ActivityRecord]:
        for decoded in self.decoded_chunks():
            yield from decoded.records

    def decoded_chunks(
        self,
        size: int = 5_000,
        *,
        prepare: Callable[[ActivityRecord], Any] | None = None,
        pool: Pool | None = None,
    ) -> Generator[DecodedChunk, None, None]:
        """Decode the file ``size`` lines at a time, in file order.

        ``prepare`` turns each record into what the consumer needs (in the worker, so it
        runs in parallel when a process ``pool`` is given). Invalid lines raise, or are
        counted in :attr:`report` and skipped when ``skip_invalid``.
        """
        work = self.chunk_decoder(prepare)
        with ExitStack() as stack:  # closed in reverse: the chunks in flight, then the file
            chunks = stack.enter_context(closing(self._chunks(size)))
            decoded_all: Iterator[DecodedChunk] = (
                stack.enter_context(closing(_bounded_imap(pool, work, chunks)))
                if pool is not None
                else map(work, chunks)
            )
            for decoded in decoded_all:
                self.report.lines += decoded.lines
                self.report.records += len(decoded.records)
                for error in decoded.errors:
                    self._invalid(error)
                yield decoded

    def chunk_decoder(
        self, prepare: Callable[[ActivityRecord], Any] | None
    ) -> Callable[[tuple[int, list[Any]]], DecodedChunk]:
        """What decodes one chunk ``(number of its first line, lines)``: the spec's
        records here; a vendor log's reader (:mod:`vigile.sources`) maps its own. It runs
        in the worker when there is a pool, so it must pickle."""
        return partial(decode_chunk, str(self.path), prepare=prepare)

    def _chunks(self, size: int) -> Generator[tuple[int, list[Any]], None, None]:
        """``(number of the first line, lines)``. A stream that breaks off (a truncated or
        corrupt gzip, an I/O error) is named at the first line not read whole: the lines
        of a chunk are counted one by one, not as the chunk they were read ahead in."""
        whole = 0  # lines read whole, in the chunks handed out and in ``chunk``
        chunk: list[bytes] = []
        with ExitStack() as stack:
            lines = self._open(stack)
            try:
                for line in lines:
                    chunk.append(line)
                    whole += 1
                    if len(chunk) == size:
                        yield whole - size + 1, chunk
                        chunk = []
            except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
                raise _broken_off(self.path, whole + 1, exc) from exc
            if chunk:
                yield whole - len(chunk) + 1, chunk

    def _open(self, stack: ExitStack) -> IO[bytes]:
        try:
            raw = stack.enter_context(open(self.path, "rb"))  # noqa: SIM115 - the stack closes it
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror}") from exc
        self._raw = raw
        if raw.peek(2)[:2] == _GZIP_MAGIC:
            unzipped = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            return stack.enter_context(io.BufferedReader(_ReadOnce(unzipped), 1 << 20))
        return raw

    def _invalid(self, error: RecordError) -> None:
        if isinstance(error, UnsupportedVersion) or not self.skip_invalid:
            raise error
        self.report.skipped += 1
        if len(self.report.errors) < self.keep_errors:
            self.report.errors.append(error)


class _ReadOnce(io.RawIOBase):
    """A gzip stream under a large read buffer, each read handing over what one read of
    the compressed file gave (``read1``). ``GzipFile.read(n)`` gathers ``n`` bytes over
    many reads and drops them all when one fails: a stream cut short would lose up to a
    buffer of whole lines before the break."""

    def __init__(self, stream: gzip.GzipFile) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read1(len(view))
        view[: len(data)] = data
        return len(data)


def _broken_off(path: Path, line: int, exc: BaseException) -> InputError:
    """The file ends, or cannot be read, inside ``line``: the lines before it were read
    whole (a gzip stream cut short reads up to the last line it holds complete)."""
    return InputError(
        f"{path}:{line}: cannot read: the file breaks off in this line, after {line - 1} "
        f"whole lines ({exc})"
    )


_IN_FLIGHT = 4  # chunks handed to the pool ahead of the consumer


def _bounded_imap(
    pool: Pool, work: Callable[[T], R], items: Iterator[T], window: int = _IN_FLIGHT
) -> Generator[R, None, None]:
    """``pool.imap`` with at most ``window`` items in flight: ``imap`` itself reads its
    input as fast as it can, so a slow consumer would hold the whole file in memory.

    Closed early (the consumer stopped or failed), it waits for the items in flight: until
    the worker has taken them the pool's task thread may be blocked writing one to the
    worker's pipe, and terminating the pool then waits for that thread forever (seen:
    `vigile ingest` of an out-of-order file hung when it stopped to sort)."""
    pending: deque[AsyncResult[R]] = deque()
    try:
        for item in items:
            pending.append(pool.apply_async(work, (item,)))
            if len(pending) >= window:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
    finally:
        for result in pending:
            result.wait()


@dataclass(frozen=True, kw_only=True, slots=True)
class DecodedChunk:
    """The records (or what ``prepare`` made of them) and errors of consecutive lines."""

    lines: int
    records: list[Any]
    errors: list[RecordError]


def decode_chunk(
    source: str,
    chunk: tuple[int, list[bytes]],
    *,
    prepare: Callable[[ActivityRecord], Any] | None = None,
) -> DecodedChunk:
    """Decode lines; a header is accepted only as the file's first non-blank line."""
    first, lines = chunk
    records: list[Any] = []
    errors: list[RecordError] = []
    seen = 0
    loads = orjson.loads
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        seen += 1
        try:
            obj = loads(line)
            if type(obj) is dict and obj.get("kind") == "header":
                _check_header(obj, first=first == 1 and seen == 1)
                continue
            record = decode(obj)
        except (InvalidField, orjson.JSONDecodeError) as exc:
            errors.append(_located(source, number, exc))
            continue
        records.append(record if prepare is None else prepare(record))
    return DecodedChunk(lines=seen, records=records, errors=errors)


def _check_header(obj: dict[str, Any], *, first: bool) -> None:
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
