"""A vendor's log read through a :class:`~vigile.sources.base.Source`.

:class:`VendorLogReader` is the activity log's reader (the same chunks, gzip detected
from the content, a file that breaks off named at its line, ``--skip-invalid``) with one
part changed: each line is parsed as the vendor's record and mapped, and what maps to
nothing is counted (:class:`SourceReport`) instead of stored. A Parquet file (told by
its first bytes, :mod:`vigile.sources.parquet`) is read the same way, a row for a line,
by a source that declares the columns of its Parquet files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.pool import Pool
from pathlib import Path
from typing import IO, Any

import orjson

from vigile.activitylog.reader import ActivityLogReader, DecodedChunk
from vigile.errors import InputError, RecordError
from vigile.sources.base import Identities, InvalidField, Mapped, Skipped, Source, Unmapped
from vigile.sources.parquet import ParquetSource, is_parquet, parquet_rows

__all__ = ["MappedChunk", "SourceReport", "VendorLogReader", "map_chunk"]

_EXAMPLES = 5  # examples kept per reason of an unmapped record


@dataclass(frozen=True, kw_only=True, slots=True)
class MappedChunk(DecodedChunk):
    """A chunk's Vigile records, its errors, and what it did not map."""

    unsupported: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    lost: Counter[str] = field(default_factory=Counter)
    lost_examples: dict[str, list[str]] = field(default_factory=dict)


@dataclass(kw_only=True, slots=True)
class SourceReport:
    """Over a whole file: vendor records skipped by type, unmapped ones by reason with
    the first few examples (``FILE:LINE: value``), and fields lost from mapped ones (left
    empty, not guessed) the same way."""

    unsupported: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    lost: Counter[str] = field(default_factory=Counter)
    lost_examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, chunk: MappedChunk) -> None:
        self.unsupported.update(chunk.unsupported)
        self.unmapped.update(chunk.unmapped)
        self.lost.update(chunk.lost)
        for examples, more in (
            (self.examples, chunk.examples),
            (self.lost_examples, chunk.lost_examples),
        ):
            for reason, found in more.items():
                kept = examples.setdefault(reason, [])
                kept.extend(found[: _EXAMPLES - len(kept)])


class VendorLogReader(ActivityLogReader):
    """Reads a vendor's JSON-lines log (``.gz`` too), or Parquet rows, into Vigile's
    records."""

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

    def chunk_decoder(
        self, prepare: Callable[[Any], Any] | None
    ) -> Callable[[tuple[int, list[Any]]], DecodedChunk]:
        return partial(map_chunk, str(self.path), self.source, self.identities, prepare=prepare)

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

    def _chunks(self, size: int) -> Generator[tuple[int, list[Any]], None, None]:
        """JSON lines as the activity log's reader cuts them; a Parquet file's rows, as
        dictionaries, ``size`` at a time."""
        with ExitStack() as stack:
            raw = self._open_raw(stack)
            if not is_parquet(raw):
                stack.close()
                yield from super()._chunks(size)
                return
            if not isinstance(self.source, ParquetSource):
                raise InputError(
                    f"{self.path}: a Parquet file; --from {self.source.name} reads JSON lines"
                )
            yield from parquet_rows(self.path, raw, self.source, size)

    def _open_raw(self, stack: ExitStack) -> IO[bytes]:
        try:
            raw = stack.enter_context(open(self.path, "rb"))  # noqa: SIM115 - the stack closes it
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror}") from exc
        self._raw = raw
        return raw


def map_chunk(
    path: str,
    source: Source[Any],
    identities: Identities,
    chunk: tuple[int, list[Any]],
    *,
    prepare: Callable[[Any], Any] | None = None,
) -> MappedChunk:
    """Parse and map consecutive lines (bytes) or Parquet rows (already dictionaries);
    an invalid one is an error naming its line or row."""
    first, lines = chunk
    out = MappedChunk(lines=0, records=[], errors=[])
    seen = 0
    loads = orjson.loads
    for number, line in enumerate(lines, start=first):
        is_row = type(line) is dict
        if not is_row and not line.strip():
            continue
        seen += 1
        try:
            result = source.map(source.parse(line if is_row else loads(line)), identities)
        except InvalidField as exc:
            out.errors.append(RecordError(path, number, exc.field, exc.message))
            continue
        except orjson.JSONDecodeError as exc:
            message = f"not a JSON object: {str(exc).split(':', 1)[0]}"
            out.errors.append(RecordError(path, number, "json", message))
            continue
        if isinstance(result, Mapped):
            out.records.extend(r if prepare is None else prepare(r) for r in result.records)
            for lost in result.lost:
                out.lost[lost.reason] += 1
                kept = out.lost_examples.setdefault(lost.reason, [])
                if len(kept) < _EXAMPLES:
                    kept.append(f"{path}:{number}: {lost.example}")
        elif isinstance(result, Skipped):
            out.unsupported[result.event_type] += 1
        elif isinstance(result, Unmapped):
            out.unmapped[result.reason] += 1
            kept = out.examples.setdefault(result.reason, [])
            if len(kept) < _EXAMPLES:
                kept.append(f"{path}:{number}: {result.example}")
    return MappedChunk(
        lines=seen,
        records=out.records,
        errors=out.errors,
        unsupported=out.unsupported,
        unmapped=out.unmapped,
        examples=out.examples,
        lost=out.lost,
        lost_examples=out.lost_examples,
    )
