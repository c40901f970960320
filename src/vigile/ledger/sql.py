"""The ledger in the store's database: node hashes, leaves appended with the events.

Every perfect node of the tree lives in ``ledger_entries(idx, hashes)``: one row per
leaf, holding the leaf hash and the subtree hashes its append completed.
:class:`SqlNodes` is the :class:`~vigile.ledger.compact.NodeReader` that proofs read
from (one query, O(log n) rows). :class:`LedgerWriter` appends the leaves of newly stored
events inside the transaction that stores them, so an event and its ledger entry are
committed together or not at all; one writer at a time sequences the tree
(:func:`vigile.store.engine.write_transaction`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from datetime import UTC, datetime
from heapq import merge
from typing import Any

from sqlalchemy import Connection, func, select

from vigile.ledger.canonical import canonical_json
from vigile.ledger.checkpoint import Checkpoint, sign_checkpoint
from vigile.ledger.compact import CompactRange
from vigile.ledger.errors import LedgerError, MissingNodeError
from vigile.ledger.hashing import HASH_SIZE, leaf_hash
from vigile.ledger.nodes import NodeId
from vigile.ledger.note import Signer
from vigile.model.times import from_micros, to_micros
from vigile.store import tables as t
from vigile.store.rows import spec_object
from vigile.store.writes import bulk_insert

__all__ = [
    "Border",
    "LedgerWriter",
    "SqlNodes",
    "StoredCheckpoint",
    "all_checkpoints",
    "event_leaf",
    "events_in_order",
    "latest_checkpoint",
    "ledger_size",
]

_QUERY_CHUNK = 400  # (level, idx) pairs per query: well under every engine's parameter limit


def event_leaf(table: str, values: tuple[Any, ...]) -> bytes:
    """The leaf bytes of a stored event: its spec object in canonical JSON."""
    return canonical_json(spec_object(table, values))


class SqlNodes:
    """Node hashes kept in ``ledger_entries``, read and written on one connection.

    The append of leaf ``i`` completes the leaf node (0, i) and, while ``i`` is a right
    child, its parents: those hashes, in level order, are entry ``i``'s row. So node
    (level L, index k) is found in entry (k + 1) * 2^L - 1 at offset 32 L: one row per
    append, one primary-key lookup per node.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get_nodes(self, ids: Sequence[NodeId], /) -> list[bytes]:
        where = {node: ((node.index + 1) << node.level) - 1 for node in ids}
        rows: dict[int, bytes] = {}
        entries = sorted(set(where.values()))
        for start in range(0, len(entries), _QUERY_CHUNK):
            wanted = entries[start : start + _QUERY_CHUNK]
            found = self.conn.exec_driver_sql(self._lookup(len(wanted)), tuple(wanted))
            rows.update({int(row[0]): bytes(row[1]) for row in found})
        hashes = []
        for node in ids:
            row = rows.get(where[node], b"")
            value = row[node.level * HASH_SIZE : (node.level + 1) * HASH_SIZE]
            if len(value) != HASH_SIZE:
                raise MissingNodeError("not in ledger_entries", level=node.level, index=node.index)
            hashes.append(value)
        return hashes

    def _lookup(self, count: int) -> str:
        """Plain SQL: a proof is a few dozen microseconds of work, and compiling a
        SQLAlchemy expression each time would cost more than that."""
        marks = ", ".join(["?" if self.conn.dialect.paramstyle == "qmark" else "%s"] * count)
        return f"SELECT idx, hashes FROM ledger_entries WHERE idx IN ({marks})"  # noqa: S608

    def write(self, entries: Sequence[tuple[int, bytes]]) -> None:
        """Store ``(leaf index, hashes its append completed)`` rows."""
        bulk_insert(self.conn, "ledger_entries", ("idx", "hashes"), entries)


def ledger_size(conn: Connection) -> int:
    """Leaves in the ledger."""
    highest = conn.execute(select(func.max(t.ledger_entries.c.idx))).scalar()
    return 0 if highest is None else int(highest) + 1


class StoredCheckpoint:
    """A checkpoint as stored: the parsed fields and the signed note."""

    __slots__ = ("note", "root", "size", "time")

    def __init__(self, *, size: int, root: bytes, time: datetime, note: str) -> None:
        self.size, self.root, self.time, self.note = size, root, time, note


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    """The most recent checkpoint, or ``None`` before the first."""
    table = t.ledger_checkpoints
    row = conn.execute(select(table).order_by(table.c.id.desc()).limit(1)).mappings().first()
    return None if row is None else _stored(row)


def all_checkpoints(conn: Connection) -> list[StoredCheckpoint]:
    table = t.ledger_checkpoints
    rows = conn.execute(select(table).order_by(table.c.id)).mappings()
    return [_stored(row) for row in rows]


def _stored(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(
        size=int(row["size"]),
        root=bytes(row["root"]),
        time=from_micros(int(row["time_us"])),
        note=str(row["note"]),
    )


def events_in_order(
    conn: Connection, start: int = 0
) -> Generator[tuple[str, tuple[Any, ...]], None, None]:
    """Every stored event from ``seq`` = ``start`` on, as ``(table, row)``, in ``seq`` order.

    Each event table is read in primary-key order and the three streams merged, so memory
    stays constant and no sort is needed.
    """

    def stream(table: Any) -> Generator[tuple[int, str, tuple[Any, ...]], None, None]:
        query = select(table).where(table.c.seq >= start).order_by(table.c.seq)
        with conn.execute(query.execution_options(stream_results=True, yield_per=5_000)) as rows:
            for row in rows:
                yield row[0], table.name, tuple(row)

    streams = [stream(table) for table in t.EVENT_TABLES]
    try:
        for _, table, row in merge(*streams, key=lambda item: item[0]):
            yield table, row
    finally:  # a caller that stops early must not leave server-side cursors open
        for opened in streams:
            opened.close()


Clock = Callable[[], datetime]
#: A writer's tree (compact range) and latest checkpoint (size, time): see ``border``.
Border = tuple[CompactRange, int, datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class LedgerWriter:
    """Appends leaves and writes checkpoints on one connection, in its transaction."""

    def __init__(
        self,
        conn: Connection,
        *,
        signer: Signer,
        origin: str,
        every: int,
        seconds: float,
        clock: Clock = _now,
        border: Border | None = None,
    ) -> None:
        """``border``: the tree and latest checkpoint as a writer left them, for a caller
        that knows nobody appended or signed since (it saves reading them again)."""
        self.conn = conn
        self.nodes = SqlNodes(conn)
        self.signer = signer
        self.origin = origin
        self.every = max(1, every)
        self.seconds = seconds
        self.clock = clock
        if border is not None:
            self.range, self.checkpointed, self.checkpointed_at = border
        else:
            self.range = CompactRange.from_reader(self.nodes, ledger_size(conn))
            latest = latest_checkpoint(conn)
            self.checkpointed = 0 if latest is None else latest.size
            self.checkpointed_at = clock() if latest is None else latest.time
        self._pending: list[tuple[int, bytes]] = []

    @property
    def border(self) -> Border:
        """What a later writer needs to go on from here without reading the store."""
        return self.range, self.checkpointed, self.checkpointed_at

    @property
    def size(self) -> int:
        return self.range.size

    def append(self, leaf: bytes) -> None:
        """Append one leaf; a checkpoint is signed every ``every`` entries."""
        self.append_leaf_hash(leaf_hash(leaf))

    def append_leaf_hash(self, digest: bytes) -> None:
        """Append a leaf by its RFC 9162 leaf hash."""
        index = self.range.size
        completed = self.range.append(digest)  # the leaf node first, then parents
        self._pending.append((index, b"".join(node.hash for node in completed)))
        if self.range.size - self.checkpointed >= self.every:
            self.checkpoint()

    def append_event(self, table: str, row: tuple[Any, ...]) -> None:
        """Append the leaf of an event stored as ``row`` of ``table``."""
        self.append(event_leaf(table, row))

    def check_complete(self, events_stored: int) -> None:
        """Refuse to write when the store and the ledger disagree on how many events
        there are: every event enters both in one transaction of the write path, so a
        difference means rows were deleted from one, or inserted into the event tables
        outside Vigile (which the ledger must never sign as its own)."""
        if self.size > events_stored:
            raise LedgerError(
                f"the ledger holds {self.size:,} entries but the store only "
                f"{events_stored:,} events: events were deleted (run `vigile ledger verify`)"
            )
        if self.size < events_stored:
            raise LedgerError(
                f"the store holds {events_stored - self.size:,} events the ledger does not "
                f"(from seq {self.size:,}): they were written outside Vigile's write path, "
                "and are not signed; nothing more is recorded until they are investigated "
                "(run `vigile ledger verify`)"
            )

    def checkpoint_if_due(self) -> Checkpoint | None:
        """Sign a checkpoint when ``seconds`` passed since the last one and leaves came."""
        late = (self.clock() - self.checkpointed_at).total_seconds() >= self.seconds
        if late and self.range.size > self.checkpointed:
            return self.checkpoint()
        return None

    def flush(self) -> None:
        self.nodes.write(self._pending)
        self._pending = []

    def checkpoint(self) -> Checkpoint:
        """Sign and store a checkpoint of the current tree (nodes flushed first)."""
        self.flush()
        checkpoint = Checkpoint(
            origin=self.origin, size=self.range.size, root=self.range.root(), time=self.clock()
        )
        note = sign_checkpoint(checkpoint, self.signer)
        assert checkpoint.time is not None
        self.conn.execute(
            t.ledger_checkpoints.insert().values(
                size=checkpoint.size,
                root=checkpoint.root,
                time_us=to_micros(checkpoint.time),
                note=note,
            )
        )
        self.checkpointed, self.checkpointed_at = checkpoint.size, checkpoint.time
        return checkpoint
