"""``vigile ledger verify``: recompute the tree from the stored events and check it.

Every event is re-encoded from its row, hashed, and compared, in ``seq`` order, with the
leaf hash recorded when it was appended; the tree is rebuilt from those hashes and its
root compared with every stored checkpoint (whose signatures are checked first) and with
any checkpoint published outside the database. The first discrepancy is named:

- an event changed after the fact (one byte is enough): its leaf no longer matches;
- an event deleted: a gap in ``seq``, or ledger entries without their event;
- events swapped or reordered: leaves no longer match their positions;
- an event inserted: an event without a ledger entry, or a leaf that does not match;
  an event past the tree is fine only if the leaf stored with it matches (it awaits the
  integrator: ``pending``);
- the newest entries removed, with their nodes and checkpoints: only a checkpoint kept
  outside the database can tell, hence ``VIGILE_CHECKPOINT_FILE`` and ``--checkpoint``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from vigile.ledger.checkpoint import parse_and_verify
from vigile.ledger.compact import CompactRange
from vigile.ledger.encoding import encode_b64
from vigile.ledger.errors import CheckpointError
from vigile.ledger.hashing import HASH_SIZE, leaf_hash
from vigile.ledger.note import Verifier
from vigile.ledger.sql import all_checkpoints, event_leaf, events_in_order
from vigile.store import tables as t

__all__ = ["Finding", "VerifyReport", "verify_ledger"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """The first thing wrong, at ledger entry ``entry`` when it concerns one."""

    entry: int | None
    message: str


@dataclass(kw_only=True, slots=True)
class VerifyReport:
    """What ``verify`` checked and the first problem found, if any."""

    entries: int = 0
    pending: int = 0
    checkpoints: int = 0
    published: int = 0
    root: str = ""
    problem: Finding | None = None
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


Progress = Callable[[int], None]


def verify_ledger(
    conn: Connection,
    verifier: Verifier,
    *,
    published: Sequence[str] = (),
    progress: Progress | None = None,
) -> VerifyReport:
    """Check the ledger of the store behind ``conn``; never raises on tampering."""
    report = VerifyReport()
    expected, problem = _expected_roots(conn, verifier, published, report)
    if problem is not None:
        report.problem = problem
        return report
    report.problem = _replay(conn, expected, report, progress)
    if report.problem is None:
        report.problem = _beyond_the_end(expected, report.entries)
    return report


def _expected_roots(
    conn: Connection, verifier: Verifier, published: Sequence[str], report: VerifyReport
) -> tuple[dict[int, list[tuple[str, bytes]]], Finding | None]:
    """Roots every checkpoint vouches for, by size; a bad signature is a finding."""
    expected: dict[int, list[tuple[str, bytes]]] = {}
    for number, stored in enumerate(all_checkpoints(conn), start=1):
        try:
            checkpoint = parse_and_verify(stored.note, verifier)
        except CheckpointError as exc:
            return expected, Finding(entry=None, message=f"stored checkpoint #{number}: {exc}")
        if (checkpoint.size, checkpoint.root) != (stored.size, stored.root):
            message = f"stored checkpoint #{number}: its columns differ from its signed note"
            return expected, Finding(entry=None, message=message)
        expected.setdefault(checkpoint.size, []).append(
            (f"stored checkpoint #{number}", checkpoint.root)
        )
        report.checkpoints += 1
    for number, note in enumerate(published, start=1):
        try:
            checkpoint = parse_and_verify(note, verifier)
        except CheckpointError as exc:
            return expected, Finding(entry=None, message=f"published checkpoint #{number}: {exc}")
        expected.setdefault(checkpoint.size, []).append(
            (f"published checkpoint #{number}", checkpoint.root)
        )
        report.published += 1
    return expected, None


def _replay(
    conn: Connection,
    expected: dict[int, list[tuple[str, bytes]]],
    report: VerifyReport,
    progress: Progress | None,
) -> Finding | None:
    with (
        closing(events_in_order(conn)) as events,
        closing(_recorded_leaves(conn)) as recorded,
        closing(_queued_leaves(conn)) as queued,
    ):
        return _replay_events(events, recorded, queued, expected, report, progress)


def _replay_events(  # noqa: PLR0917 - the three streams and what they are checked against
    events: Iterator[tuple[str, tuple[Any, ...]]],
    recorded: Iterator[tuple[int, bytes]],
    queued: Iterator[tuple[int, bytes]],
    expected: dict[int, list[tuple[str, bytes]]],
    report: VerifyReport,
    progress: Progress | None,
) -> Finding | None:
    """Events against the tree's entries, then, past the tree, against the leaves stored
    with them and not integrated yet (pending: not an error, counted)."""
    tree = CompactRange()
    integrated = True
    for entry, (table, row) in enumerate(events):
        seq, event_id = int(row[0]), row[1]
        if seq != entry:
            return Finding(entry=entry, message=f"entry {entry} is missing: its event was deleted")
        digest = leaf_hash(event_leaf(table, row))
        queued_leaf = next(queued, None)
        stored = next(recorded, None) if integrated else None
        if stored is None:
            integrated = False
            if queued_leaf != (entry, digest):
                return Finding(
                    entry=entry,
                    message=f"entry {entry} (event {event_id}) has no ledger record: "
                    "inserted after the fact",
                )
            report.pending += 1
            continue
        if stored != (entry, digest):
            return Finding(
                entry=entry,
                message=f"entry {entry} (event {event_id} in {table}) does not match the "
                "hash recorded when it was appended: altered, or moved",
            )
        tree.append(digest)
        report.entries = tree.size
        if progress is not None and tree.size % 10_000 == 0:
            progress(tree.size)
        problem = _check_roots(expected.get(tree.size, ()), tree.root(), tree.size)
        if problem is not None:
            return problem
    report.root = encode_b64(tree.root())
    leftover = next(recorded, None)
    if leftover is not None:
        return Finding(
            entry=leftover[0],
            message=f"entry {leftover[0]} is in the ledger but its event is gone: deleted",
        )
    return _check_roots(expected.get(0, ()), tree.root(), 0) if tree.size == 0 else None


def _check_roots(claims: Sequence[tuple[str, bytes]], root: bytes, size: int) -> Finding | None:
    for source, claimed in claims:
        if claimed != root:
            return Finding(
                entry=size - 1 if size else None,
                message=f"{source} (size {size:,}) does not match the events: an entry "
                f"before {size:,} was changed",
            )
    return None


def _beyond_the_end(expected: dict[int, list[tuple[str, bytes]]], entries: int) -> Finding | None:
    beyond = sorted(size for size in expected if size > entries)
    if not beyond:
        return None
    size = beyond[-1]
    source = expected[size][0][0]
    return Finding(
        entry=entries,
        message=f"{source} covers {size:,} entries but the ledger holds {entries:,}: "
        f"entries from {entries:,} on were removed",
    )


def _queued_leaves(conn: Connection) -> Generator[tuple[int, bytes], None, None]:
    leaves = t.ledger_leaves
    query = select(leaves.c.idx, leaves.c.hash).order_by(leaves.c.idx)
    with conn.execute(query.execution_options(stream_results=True, yield_per=5_000)) as rows:
        for row in rows:
            yield int(row[0]), bytes(row[1])


def _recorded_leaves(conn: Connection) -> Generator[tuple[int, bytes], None, None]:
    entries = t.ledger_entries
    query = select(entries.c.idx, entries.c.hashes).order_by(entries.c.idx)
    with conn.execute(query.execution_options(stream_results=True, yield_per=5_000)) as rows:
        for row in rows:
            yield int(row[0]), bytes(row[1][:HASH_SIZE])  # the leaf hash comes first
