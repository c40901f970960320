"""The tree published as C2SP tlog-tiles (c2sp.org/tlog-tiles), for any tlog client.

A tile at level ``L``, index ``N`` is the concatenation of up to 256 hashes: those of the
perfect subtrees of height ``8 L`` numbered ``N * 256`` to ``N * 256 + 255``, i.e. the
stored nodes (level ``8 L``, index ``k``) of ``ledger_entries``. A tree of size ``s``
has, at each level, ``s // 256 ** (L + 1)`` full tiles and one partial tile of width
``(s // 256 ** L) % 256`` when that is not zero (path suffix ``.p/<W>``). Entry bundles
(``tile/entries/<N>``) hold the leaves themselves, each prefixed with its length as a
big-endian uint16: a leaf is the event's canonical JSON, whose SHA-256 with the 0x00
prefix is the level-0 tile's hash.

:func:`tile_path` and :func:`tiles_of` are pure; :class:`TileReader` reads a tile or a
bundle from the store; :func:`publish_tiles` writes them as static files, incrementally.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from vigile.ledger.errors import LedgerError
from vigile.ledger.nodes import NodeId
from vigile.ledger.sql import SqlNodes, event_leaf, events_in_order

__all__ = ["Tile", "TileReader", "parse_tile_path", "publish_tiles", "tile_path", "tiles_of"]

WIDTH = 256
_MAX_ENTRY = 0xFFFF  # the uint16 length prefix of an entry in a bundle


@dataclass(frozen=True, kw_only=True, slots=True, order=True)
class Tile:
    """Tile ``index`` at ``level`` (``None``: the entry bundle) of ``width`` hashes."""

    level: int | None
    index: int
    width: int

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)


def tile_path(level: int | None, index: int, width: int = WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` (``tile/entries/...`` for ``level`` None), ``N`` in
    3-digit groups, all but the last prefixed with ``x``."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    encoded = "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])
    kind = "entries" if level is None else str(level)
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{kind}/{encoded}{suffix}"


def parse_tile_path(path: str) -> Tile:
    """The tile a ``tile/...`` path names (``LedgerError`` when it names none)."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise LedgerError(f"not a tile path: {path!r}")
    width = WIDTH
    if len(parts) >= 4 and parts[-2].endswith(".p"):
        if not parts[-1].isdigit() or parts[-1].startswith("0") or int(parts[-1]) >= WIDTH:
            raise LedgerError(f"not a tile path: {path!r}")  # a partial tile: 1 to 255
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][:-2]]
    kind, groups = parts[1], parts[2:]
    valid_groups = all(len(g) == 4 and g[0] == "x" and g[1:].isdigit() for g in groups[:-1])
    last_ok = len(groups[-1]) == 3 and groups[-1].isdigit()
    level_ok = kind == "entries" or (kind.isdigit() and str(int(kind)) == kind and int(kind) < 64)
    if not (valid_groups and last_ok and level_ok and 1 <= width <= WIDTH):
        raise LedgerError(f"not a tile path: {path!r}")
    index = int("".join(g.lstrip("x") for g in groups))
    return Tile(level=None if kind == "entries" else int(kind), index=index, width=width)


def tiles_of(size: int, since: int = 0) -> list[Tile]:
    """Every tile and bundle a tree of ``size`` leaves has that one of ``since`` leaves
    did not have whole: what an incremental publication adds."""
    tiles: list[Tile] = []
    level = 0
    while size >> (8 * level):
        span = 1 << (8 * (level + 1))
        full, width = size // span, (size >> (8 * level)) % WIDTH
        first = since // span  # tiles before this were full already at ``since``
        for index in range(first, full):
            tiles += [Tile(level=level, index=index, width=WIDTH)]
            if level == 0:
                tiles += [Tile(level=None, index=index, width=WIDTH)]
        if width:
            tiles += [Tile(level=level, index=full, width=width)]
            if level == 0:
                tiles += [Tile(level=None, index=full, width=width)]
        level += 1
    return tiles


class TileReader:
    """Tiles and bundles of the tree stored behind ``conn`` (of at least ``size``)."""

    def __init__(self, conn: Connection, size: int) -> None:
        self.conn = conn
        self.size = size

    def read(self, tile: Tile) -> bytes:
        if not self._exists(tile):
            raise LedgerError(f"{tile.path}: no such tile in a tree of {self.size:,} entries")
        if tile.level is None:
            return self._bundle(tile)
        first = tile.index * WIDTH
        ids = [NodeId(level=8 * tile.level, index=first + i) for i in range(tile.width)]
        return b"".join(SqlNodes(self.conn).get_nodes(ids))

    def _exists(self, tile: Tile) -> bool:
        level = 0 if tile.level is None else tile.level
        leaves_per_hash = 1 << (8 * level)
        return (tile.index * WIDTH + tile.width) * leaves_per_hash <= self.size

    def _bundle(self, tile: Tile) -> bytes:
        start = tile.index * WIDTH
        out = bytearray()
        events = events_in_order(self.conn, start)
        try:
            for count, (table, row) in enumerate(events):
                if count == tile.width:
                    break
                leaf = event_leaf(table, row)
                if len(leaf) > _MAX_ENTRY:
                    raise LedgerError(
                        f"entry {row[0]:,} is {len(leaf):,} bytes: an entry bundle holds "
                        f"at most {_MAX_ENTRY:,}"
                    )
                out += struct.pack(">H", len(leaf)) + leaf
        finally:
            events.close()
        return bytes(out)


def publish_tiles(
    conn: Connection, folder: Path, checkpoint_note: str, size: int, since: int
) -> Iterator[Tile]:
    """Write the tiles a tree of ``size`` adds to one of ``since`` under ``folder``, then
    the checkpoint (last, atomically: a client never sees a checkpoint whose tiles are
    missing). Yields each tile written, for progress."""
    reader = TileReader(conn, size)
    for tile in tiles_of(size, since):
        target = folder / tile.path
        if tile.width == WIDTH and target.exists():
            continue  # full tiles never change
        _write(target, reader.read(tile))
        yield tile
    _write(folder / "checkpoint", checkpoint_note.encode())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
