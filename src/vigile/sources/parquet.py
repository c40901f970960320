"""Rows of a Parquet file (a security lake's events) as the JSON objects a source parses.

Amazon Security Lake and other OCSF lakes store one event a row, its objects as nested
structs. A source that reads such files says which top-level columns every one of its
files must have (:attr:`ParquetSource.parquet_columns`); :func:`parquet_rows` checks the
schema against them once, then hands the rows over in record batches (bounded memory:
one batch of ``size`` rows at a time), each row the dictionary its JSON line would have
been:

- a struct is an object, a list a list, a null an explicit ``None``;
- a MAP is a list of ``(key, value)`` pairs (pyarrow's form), which the source reads;
- a top-level ``time`` stored as a Parquet timestamp becomes epoch milliseconds (OCSF's
  ``timestamp_t``), as Security Lake writes it (``int64``) anyway.

Rows are numbered from 1 in file order: errors name ``FILE:ROW: field``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from vigile.errors import InputError

__all__ = ["PARQUET_MAGIC", "ParquetSource", "is_parquet", "parquet_rows"]

#: The four bytes every Parquet file starts (and ends) with.
PARQUET_MAGIC = b"PAR1"


@runtime_checkable
class ParquetSource(Protocol):
    """A source whose events may come as Parquet rows."""

    @property
    def name(self) -> str: ...

    @property
    def parquet_columns(self) -> Sequence[str]:
        """The top-level columns every file of this source has (its schema's signature)."""
        ...


def is_parquet(raw: IO[bytes]) -> bool:
    """Whether the (buffered, peekable) file is Parquet, by its first four bytes."""
    peek = getattr(raw, "peek", None)
    head = peek(4)[:4] if peek is not None else b""
    return bytes(head) == PARQUET_MAGIC


def parquet_rows(
    path: Path, raw: IO[bytes], source: ParquetSource, size: int
) -> Generator[tuple[int, list[dict[str, Any]]], None, None]:
    """``(number of the first row, rows)``, ``size`` rows at a time; :class:`InputError`
    when the file is not Parquet that pyarrow can read, or its schema lacks a column the
    source needs (named, with the columns it has)."""
    try:
        parquet = pq.ParquetFile(raw)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a Parquet file pyarrow can read: {exc}") from exc
    schema = parquet.schema_arrow
    missing = [c for c in source.parquet_columns if c not in schema.names]
    if missing:
        has = ", ".join(schema.names[:12]) + (", ..." if len(schema.names) > 12 else "")
        raise InputError(
            f"{path}: not a Parquet file of {source.name} events: no column "
            f"{', '.join(missing)} (it has {has or 'no columns'})"
        )
    time_column = schema.get_field_index("time")
    retime = time_column >= 0 and pa.types.is_timestamp(schema.field(time_column).type)
    first = 1
    try:
        for batch in parquet.iter_batches(batch_size=size):
            rows = (_epoch_ms_time(batch, time_column) if retime else batch).to_pylist()
            yield first, rows
            first += len(rows)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"{path}:{first}: cannot read: the Parquet file breaks off at or after this row ({exc})"
        ) from exc


def _epoch_ms_time(batch: pa.RecordBatch, index: int) -> pa.RecordBatch:
    """``time`` as a timestamp column turned into epoch milliseconds (``int64``)."""
    columns = list(batch.columns)
    columns[index] = columns[index].cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)
