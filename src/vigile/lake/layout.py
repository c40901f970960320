"""The lake's layout, and opening one: where things are, and what a lake must look like.

::

    DIR/_vigile_lake.json                          the marker: format, version, lake id
    DIR/kind=access/date=2026-05-03/part-000000000000-000000999999.parquet

``kind`` is the activity log's (``access``, ``signin``, ``ticket``, ``audit``), ``date``
the event's UTC day, and a part holds the events of one kind and day whose leaf indexes
fall in the export window named by the file (first and last leaf index of the window).
Each row is the store's row of the event (its columns, in the table's order) after its
``leaf`` index, so the lake's row rebuilds the ledger's leaf exactly. Names starting
with ``_`` or ``.`` are ignored, as Hive, Spark and DuckDB do.

``DIR`` is a local folder or a URL of a filesystem pyarrow knows (``file://``, ``s3://``,
``gs://``, ``hdfs://``...), or, with ``fsspec`` installed, any of fsspec's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.fs as pafs  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy import BigInteger, Float, Integer, Table

from vigile.lake.errors import LakeError
from vigile.store import tables as t

__all__ = [
    "FORMAT",
    "KINDS",
    "MARKER",
    "VERSION",
    "Lake",
    "Part",
    "day_of",
    "lake_schema",
    "open_lake",
    "part_name",
]

FORMAT = "vigile-lake"
VERSION = 1
MARKER = "_vigile_lake.json"

#: The activity log's kind of each event table: the lake's ``kind=`` partitions.
KINDS: dict[str, Table] = {
    "access": t.accesses,
    "signin": t.signins,
    "ticket": t.ticket_events,
    "audit": t.audit_events,
}

_EPOCH = date(1970, 1, 1)
_PART = re.compile(r"part-(\d{12,})-(\d{12,})\.parquet")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _arrow_type(column: Any) -> pa.DataType:
    if isinstance(column.type, BigInteger | Integer):
        return pa.int64()
    if isinstance(column.type, Float):
        return pa.float64()
    return pa.string()


def lake_schema(kind: str) -> pa.Schema:
    """The Parquet schema of a part of ``kind``: ``leaf``, then the store's columns."""
    columns = KINDS[kind].columns
    fields = [pa.field("leaf", pa.int64(), nullable=False)]
    fields += [pa.field(c.name, _arrow_type(c), nullable=bool(c.nullable)) for c in columns]
    return pa.schema(fields)


def day_of(days_since_epoch: int) -> str:
    """The ``date=`` of a UTC day numbered from 1970-01-01."""
    return (_EPOCH + timedelta(days=days_since_epoch)).isoformat()


def part_name(first: int, last: int) -> str:
    """The file name of the part of the export window ``[first, last]`` (leaf indexes)."""
    return f"part-{first:012d}-{last:012d}.parquet"


@dataclass(frozen=True, kw_only=True, slots=True)
class Part:
    """One Parquet file of the lake."""

    kind: str
    day: str
    first: int  # the export window's first leaf index
    last: int  # and its last
    path: str  # on the lake's filesystem

    @property
    def name(self) -> str:
        """The part's place in the lake, for messages: ``kind=…/date=…/part-….parquet``."""
        return f"kind={self.kind}/date={self.day}/{part_name(self.first, self.last)}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Lake:
    """An opened lake (or the folder a new one will be made in: ``lake_id`` None)."""

    location: str
    fs: pafs.FileSystem
    root: str
    lake_id: str | None
    parts: tuple[Part, ...]

    def path(self, *names: str) -> str:
        return "/".join([self.root.rstrip("/"), *names])

    def check_schema(self, part: Part) -> None:
        """Refuse a part whose columns are not the lake's for its kind (a foreign file)."""
        try:
            found = pq.read_schema(part.path, filesystem=self.fs)
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"{self.location}: {part.name}: not a Parquet file ({exc})") from exc
        wanted = lake_schema(part.kind)
        # Names and types: a tool that rewrites a part (Spark, pandas) marks every
        # column nullable, and a changed value is the check's to name, not the layout's.
        if [(f.name, f.type) for f in found] != [(f.name, f.type) for f in wanted]:
            raise LakeError(
                f"{self.location}: {part.name}: a foreign schema in the lake "
                f"(columns {_columns(found)}; kind={part.kind} has {_columns(wanted)})"
            )

    def write_marker(self, lake_id: str) -> None:
        self.fs.create_dir(self.root, recursive=True)
        marker = {"format": FORMAT, "version": VERSION, "lake": lake_id}
        with self.fs.open_output_stream(self.path(MARKER)) as out:
            out.write(orjson.dumps(marker, option=orjson.OPT_INDENT_2) + b"\n")


def _columns(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name} {f.type}" for f in schema)


def filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and root path of a lake location (folder or URL)."""
    if "://" not in location:
        return pafs.LocalFileSystem(), str(Path(location).expanduser().resolve())
    try:
        return pafs.FileSystem.from_uri(location)  # type: ignore[no-any-return]
    except (pa.ArrowException, ValueError, OSError) as arrow_error:
        try:
            import fsspec  # type: ignore[import-not-found]  # noqa: PLC0415 - optional
        except ImportError:
            raise LakeError(f"{location}: cannot open this lake URL ({arrow_error})") from None
        try:
            fs, root = fsspec.core.url_to_fs(location)
        except (ValueError, ImportError, OSError) as exc:
            raise LakeError(f"{location}: cannot open this lake URL ({exc})") from exc
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), str(root)


def open_lake(location: str) -> Lake:
    """The lake at ``location``, its layout checked (nothing is written): a folder that
    does not exist or is empty is a lake to be made; one with files but no marker, or
    with files the lake's layout has no place for, is refused naming the first."""
    fs, root = filesystem(location)
    try:
        info = fs.get_file_info(root)
        if info.type == pafs.FileType.NotFound:
            return Lake(location=location, fs=fs, root=root, lake_id=None, parts=())
        if info.type != pafs.FileType.Directory:
            raise LakeError(f"{location}: not a folder, so not a Vigile lake")
        listing = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    except OSError as exc:
        raise LakeError(f"{location}: cannot read the lake ({exc})") from exc
    base = root.rstrip("/") + "/"
    files = {i.path[len(base) :]: i for i in listing if i.type == pafs.FileType.File}
    if MARKER not in files:
        visible = sorted(p for p in files if not _ignored(p))
        if visible:
            raise LakeError(
                f"{location}: not a Vigile lake: it holds files ({visible[0]}) but no {MARKER}"
            )
        return Lake(location=location, fs=fs, root=root, lake_id=None, parts=())
    lake_id = _read_marker(fs, base + MARKER, location)
    parts = [_part(relative, base + relative, location) for relative in sorted(files)]
    found = tuple(p for p in parts if p is not None)
    return Lake(location=location, fs=fs, root=root, lake_id=lake_id, parts=found)


def _ignored(relative: str) -> bool:
    return any(piece.startswith(("_", ".")) for piece in relative.split("/"))


def _read_marker(fs: pafs.FileSystem, path: str, location: str) -> str:
    try:
        with fs.open_input_stream(path) as stream:
            marker = orjson.loads(stream.read())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise LakeError(f"{location}: {MARKER}: cannot read it ({exc})") from exc
    if not isinstance(marker, dict) or marker.get("format") != FORMAT:
        raise LakeError(f"{location}: {MARKER}: not a Vigile lake's marker")
    if marker.get("version") != VERSION:
        raise LakeError(
            f"{location}: {MARKER}: lake version {marker.get('version')!r}; "
            f"this Vigile reads version {VERSION}"
        )
    lake_id = marker.get("lake")
    if not isinstance(lake_id, str) or not lake_id:
        raise LakeError(f"{location}: {MARKER}: no lake id")
    return lake_id


def _part(relative: str, path: str, location: str) -> Part | None:
    if relative == MARKER or _ignored(relative):
        return None
    pieces = relative.split("/")
    foreign = LakeError(
        f"{location}: {relative}: not part of a Vigile lake "
        "(expected kind=KIND/date=YYYY-MM-DD/part-FIRST-LAST.parquet)"
    )
    if len(pieces) != 3:
        raise foreign
    kind_piece, day_piece, name = pieces
    kind = kind_piece.removeprefix("kind=")
    day = day_piece.removeprefix("date=")
    matched = _PART.fullmatch(name)
    if (
        not kind_piece.startswith("kind=")
        or kind not in KINDS
        or not day_piece.startswith("date=")
        or not _DAY.fullmatch(day)
        or matched is None
    ):
        raise foreign
    first, last = int(matched.group(1)), int(matched.group(2))
    return Part(kind=kind, day=day, first=first, last=last, path=path)
