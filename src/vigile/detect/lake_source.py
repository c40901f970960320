"""The lake's events as detection's batches: the same :class:`EventBatch` as the store
gives, so the feature SQL runs unchanged over years kept as Parquet (``vigile detect
--lake DIR``).

The lake holds the store's rows whole; two columns detection reads are derived here as
:mod:`vigile.detect.source` derives them in the store's SQL: ``result_count`` (the length
of a search's ``results``) and the incident reads left out (an access whose extra field
``incident`` is a string: an analyst's read during breach response). Both parse JSON only
for the rows that carry it. Batches are windows of leaf indexes, which are the events'
``seq``: the watermark of the store's batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.dataset as ds  # type: ignore[import-untyped]

from vigile.detect.errors import DetectError
from vigile.detect.source import ACCESS_SCHEMA, SIGNIN_SCHEMA, TICKET_SCHEMA, EventBatch
from vigile.lake.layout import Lake, lake_schema, open_lake
from vigile.model import INCIDENT_FIELD

__all__ = ["read_lake_batches"]

_KIND_SCHEMAS = {"access": ACCESS_SCHEMA, "signin": SIGNIN_SCHEMA, "ticket": TICKET_SCHEMA}


def read_lake_batches(location: str, *, after: int = -1, limit: int | None) -> Iterator[EventBatch]:
    """Every event of the lake with a leaf index after ``after``, in windows of ``limit``
    leaves (None: one), ending with an empty batch, as
    :func:`~vigile.detect.source.read_batches` does over the store."""
    lake = open_lake(location)
    if lake.lake_id is None:
        raise DetectError(f"{location}: not a Vigile lake (no lake there)")
    for part in lake.parts:
        lake.check_schema(part)
    top = max((part.last for part in lake.parts), default=-1)
    datasets = {kind: _dataset(lake, kind) for kind in _KIND_SCHEMAS}
    while after < top:
        upto = top if limit is None else min(top, after + limit)
        tables = {kind: _window(data, kind, after, upto) for kind, data in datasets.items()}
        yield EventBatch(
            accesses=tables["access"], signins=tables["signin"],
            ticket_events=tables["ticket"], upto=upto,
        )  # fmt: skip
        after = upto
    empty = {kind: schema.empty_table() for kind, schema in _KIND_SCHEMAS.items()}
    yield EventBatch(
        accesses=empty["access"], signins=empty["signin"], ticket_events=empty["ticket"],
        upto=max(after, top),
    )  # fmt: skip


def _dataset(lake: Lake, kind: str) -> ds.Dataset | None:
    paths = [part.path for part in lake.parts if part.kind == kind]
    if not paths:
        return None
    return ds.dataset(paths, schema=lake_schema(kind), format="parquet", filesystem=lake.fs)


def _window(data: ds.Dataset | None, kind: str, after: int, upto: int) -> pa.Table:
    schema = _KIND_SCHEMAS[kind]
    if data is None:
        return schema.empty_table()
    wanted = (ds.field("leaf") > after) & (ds.field("leaf") <= upto)
    extra = ["results", "extra"] if kind == "access" else []
    names = [n for n in schema.names if n != "result_count"]
    rows = data.to_table(filter=wanted, columns=[*names, *extra]).sort_by("seq")
    if kind != "access":
        return rows.select(schema.names).cast(schema)
    rows = rows.filter(pc.invert(_incident_reads(rows.column("extra"))))
    counts = pa.array(
        [None if r is None else len(orjson.loads(r)) for r in rows.column("results").to_pylist()],
        pa.int64(),
    )
    rows = rows.append_column("result_count", counts)
    return rows.select(schema.names).cast(schema)


def _incident_reads(extra: pa.ChunkedArray) -> pa.Array:
    """True for an access whose extra field ``incident`` is a string (never null)."""
    maybe = pc.fill_null(pc.match_substring(extra, f'"{INCIDENT_FIELD}":'), False)
    flags = maybe.to_pylist()
    values = extra.to_pylist()
    for index, candidate in enumerate(flags):
        if candidate:
            found = orjson.loads(values[index]).get(INCIDENT_FIELD)
            flags[index] = isinstance(found, str)
    return pa.array(flags, pa.bool_())
