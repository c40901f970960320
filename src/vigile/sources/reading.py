"""A vendor's JSON-lines log read through a :class:`~vigile.sources.base.Source`.

:class:`VendorLogReader` is the activity log's reader (the same chunks, gzip detected
from the content, a file that breaks off named at its line, ``--skip-invalid``) with one
part changed: each line is parsed as the vendor's record and mapped, and what maps to
nothing is counted (:class:`SourceReport`) instead of stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any

import orjson

from vigile.activitylog.reader import ActivityLogReader, DecodedChunk
from vigile.errors import RecordError
from vigile.sources.base import Identities, InvalidField, Mapped, Skipped, Source, Unmapped

__all__ = ["MappedChunk", "SourceReport", "VendorLogReader", "map_chunk"]

_EXAMPLES = 5  # examples kept per reason of an unmapped record


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

    def chunk_decoder(
        self, prepare: Callable[[Any], Any] | None
    ) -> Callable[[tuple[int, list[bytes]]], DecodedChunk]:
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
        if isinstance(result, Mapped):
            out.records.extend(r if prepare is None else prepare(r) for r in result.records)
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
    )
