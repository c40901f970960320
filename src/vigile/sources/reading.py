"""A vendor's log read through a :class:`~vigile.sources.base.Source`.

:class:`VendorLogReader` is the activity log's reader (the same chunks, gzip detected
from the content, a file that breaks off named at its line, ``--skip-invalid``) with one
part changed: each line is parsed as the vendor's record and mapped, and what maps to
nothing is counted (:class:`SourceReport`) instead of stored.

A :class:`~vigile.sources.base.TabularSource` (Salesforce's Event Log Files) may also
give CSV with a header row: a file whose first byte, once unzipped, is not ``{``. Its
rows are read with :mod:`csv` (a quoted field may hold newlines), each row parsed as the
JSON object of the same keys, its empty cells left out; errors name the physical line
the row starts on and the row's number (``FILE:LINE: field: row N: message``).
"""

from __future__ import annotations

import csv
import io
import zlib
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

import orjson

from vigile.activitylog.reader import ActivityLogReader, DecodedChunk
from vigile.errors import InputError, RecordError
from vigile.sources.base import (
    Identities,
    InvalidField,
    Mapped,
    MapResult,
    Skipped,
    Source,
    TabularSource,
    Unmapped,
)

__all__ = ["CsvRow", "MappedChunk", "SourceReport", "VendorLogReader", "map_chunk", "map_csv_chunk"]

_EXAMPLES = 5  # examples kept per reason of an unmapped record
_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF = 1 << 16  # bytes read to tell CSV from JSON lines

#: One CSV row: its number (the header not counted), the physical line it starts on, its
#: non-empty cells by column, and what is wrong with its shape (``None``: nothing).
CsvRow = tuple[int, int, dict[str, str], str | None]


@dataclass(frozen=True, kw_only=True, slots=True)
class MappedChunk(DecodedChunk):
    """A chunk's Vigile records, its errors, and what it did not map."""

    unsupported: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class SourceReport:
    """Over a whole file: vendor records skipped by type, and unmapped ones by reason with
    the first few examples (``FILE:LINE: value``)."""

    unsupported: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, chunk: MappedChunk) -> None:
        self.unsupported.update(chunk.unsupported)
        self.unmapped.update(chunk.unmapped)
        for reason, found in chunk.examples.items():
            kept = self.examples.setdefault(reason, [])
            kept.extend(found[: _EXAMPLES - len(kept)])


class VendorLogReader(ActivityLogReader):
    """Reads a vendor's JSON-lines log (``.gz`` too) into Vigile's records."""

    def __init__(
        self,
        path: Path,
        source: Source[Any],
        identities: Identities,
        *,
        skip_invalid: bool = False,
        keep_errors: int = 20,
    ) -> None:
        super().__init__(path, skip_invalid=skip_invalid, keep_errors=keep_errors)
        self.source = source
        self.identities = identities
        self.mapping = SourceReport()
        self._csv: bool | None = None

    @property
    def is_csv(self) -> bool:
        """Whether the file is read as CSV: a tabular source's file not starting with
        ``{`` (after any gzip and leading blanks)."""
        if self._csv is None:
            self._csv = isinstance(self.source, TabularSource) and _starts_as_csv(self.path)
        return self._csv

    def chunk_decoder(
        self, prepare: Callable[[Any], Any] | None
    ) -> Callable[[tuple[int, list[Any]]], DecodedChunk]:
        decode = map_csv_chunk if self.is_csv else map_chunk
        return partial(decode, str(self.path), self.source, self.identities, prepare=prepare)

    def _chunks(self, size: int) -> Generator[tuple[int, list[Any]], None, None]:
        if not self.is_csv:
            yield from super()._chunks(size)
            return
        chunk: list[CsvRow] = []
        for row in self._csv_rows():
            chunk.append(row)
            if len(chunk) == size:
                yield chunk[0][1], chunk
                chunk = []
        if chunk:
            yield chunk[0][1], chunk

    def _csv_rows(self) -> Iterator[CsvRow]:
        """The file's rows; a header without a required column, a row the csv module
        cannot read, text that is not UTF-8 or a file that breaks off stop the file."""
        path = str(self.path)
        with ExitStack() as stack:
            text = stack.enter_context(
                io.TextIOWrapper(self._open(stack), encoding="utf-8-sig", newline="")
            )
            reader = csv.reader(text, strict=True)
            header: list[str] | None = None
            row = 0
            start = 1
            try:
                for cells in reader:
                    if not cells:
                        start = reader.line_num + 1
                        continue
                    if header is None:
                        header = cells
                        self._check_header(header)
                    else:
                        row += 1
                        yield row, start, _cells(header, cells), _shape(header, cells)
                    start = reader.line_num + 1
            except csv.Error as exc:
                raise RecordError(path, start, "csv", f"row {row + 1}: {exc}") from None
            except UnicodeDecodeError as exc:
                raise RecordError(path, start, "csv", f"not UTF-8 text ({exc.reason})") from None
            except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
                raise InputError(
                    f"{path}:{start}: cannot read: the file breaks off in this line, "
                    f"after {row} whole rows ({exc})"
                ) from exc

    def _check_header(self, header: list[str]) -> None:
        assert isinstance(self.source, TabularSource)
        try:
            self.source.check_header(header)
        except InvalidField as exc:
            raise RecordError(str(self.path), 1, exc.field, f"header: {exc.message}") from None

    def decoded_chunks(
        self,
        size: int = 5_000,
        *,
        prepare: Callable[[Any], Any] | None = None,
        pool: Pool | None = None,
    ) -> Generator[DecodedChunk, None, None]:
        for chunk in super().decoded_chunks(size, prepare=prepare, pool=pool):
            assert isinstance(chunk, MappedChunk)
            self.mapping.add(chunk)
            yield chunk


def _starts_as_csv(path: Path) -> bool:
    """Whether the file's first non-blank byte, unzipped if it is gzip, is not ``{``."""
    try:
        with open(path, "rb") as raw:
            head = raw.read(_SNIFF)
    except OSError:
        return False  # the reader names the file when it opens it
    if head[:2] == _GZIP_MAGIC:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, _SNIFF)
        except zlib.error:
            return False  # a broken gzip: the line reader names where it breaks off
    first = head.lstrip()[:1]
    return first not in (b"{", b"")


def _cells(header: list[str], cells: list[str]) -> dict[str, str]:
    return {column: value for column, value in zip(header, cells, strict=False) if value}


def _shape(header: list[str], cells: list[str]) -> str | None:
    if len(cells) > len(header):
        return f"more cells than columns ({len(cells)} > {len(header)})"
    if len(cells) < len(header):
        return f"fewer cells than columns ({len(cells)} < {len(header)})"
    return None


def _tally(
    out: MappedChunk,
    result: MapResult,
    where: str,
    prepare: Callable[[Any], Any] | None,
) -> None:
    """Keep a mapped record, or count what it was not."""
    if isinstance(result, Mapped):
        out.records.extend(r if prepare is None else prepare(r) for r in result.records)
    elif isinstance(result, Skipped):
        out.unsupported[result.event_type] += 1
    elif isinstance(result, Unmapped):
        out.unmapped[result.reason] += 1
        kept = out.examples.setdefault(result.reason, [])
        if len(kept) < _EXAMPLES:
            kept.append(f"{where}: {result.example}")


def _finished(out: MappedChunk, seen: int) -> MappedChunk:
    return MappedChunk(
        lines=seen,
        records=out.records,
        errors=out.errors,
        unsupported=out.unsupported,
        unmapped=out.unmapped,
        examples=out.examples,
    )


def map_csv_chunk(
    path: str,
    source: Source[Any],
    identities: Identities,
    chunk: tuple[int, list[CsvRow]],
    *,
    prepare: Callable[[Any], Any] | None = None,
) -> MappedChunk:
    """Parse and map consecutive CSV rows; an invalid one is an error naming its line and
    its row."""
    out = MappedChunk(lines=0, records=[], errors=[])
    for row, line, cells, problem in chunk[1]:
        if problem is not None:
            out.errors.append(RecordError(path, line, "row", f"row {row}: {problem}"))
            continue
        try:
            result = source.map(source.parse(cells), identities)
        except InvalidField as exc:
            out.errors.append(RecordError(path, line, exc.field, f"row {row}: {exc.message}"))
            continue
        _tally(out, result, f"{path}:{line}", prepare)
    return _finished(out, len(chunk[1]))


def map_chunk(
    path: str,
    source: Source[Any],
    identities: Identities,
    chunk: tuple[int, list[bytes]],
    *,
    prepare: Callable[[Any], Any] | None = None,
) -> MappedChunk:
    """Parse and map consecutive lines; an invalid one is an error naming its line."""
    first, lines = chunk
    out = MappedChunk(lines=0, records=[], errors=[])
    seen = 0
    for number, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        seen += 1
        try:
            result = source.map(source.parse(orjson.loads(line)), identities)
        except InvalidField as exc:
            out.errors.append(RecordError(path, number, exc.field, exc.message))
            continue
        except orjson.JSONDecodeError as exc:
            message = f"not a JSON object: {str(exc).split(':', 1)[0]}"
            out.errors.append(RecordError(path, number, "json", message))
            continue
        _tally(out, result, f"{path}:{number}", prepare)
    return _finished(out, seen)
