"""The ledger of a store: keys, writers, checkpoints, proofs, publication, verification."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from vigile.ledger.checkpoint import Checkpoint, parse_and_verify
from vigile.ledger.compact import consistency_proof, inclusion_proof, root_at
from vigile.ledger.encoding import encode_b64
from vigile.ledger.errors import CheckpointError, LedgerError, SigningKeyError
from vigile.ledger.hashing import leaf_hash
from vigile.ledger.integrate import Integrated, Integrator
from vigile.ledger.keyfile import generate_key_files, load_signer, load_verifier
from vigile.ledger.leaves import QueuedLeaf, oldest_pending, queued_size
from vigile.ledger.note import Signer, Verifier
from vigile.ledger.promise import Promise, sign_promise
from vigile.ledger.sql import (
    Border,
    LedgerWriter,
    SqlNodes,
    StoredCheckpoint,
    event_leaf,
    latest_checkpoint,
    ledger_size,
)
from vigile.ledger.tiles import Tile, TileReader, parse_tile_path, publish_tiles
from vigile.model.times import from_micros
from vigile.settings import Settings
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["Ledger", "LedgerStatus", "public_key_path"]

_log = logging.getLogger("vigile.ledger")


def public_key_path(settings: Settings) -> Path:
    """Where the verifier key of the ledger's signing key is."""
    return Path(settings.ledger_key + ".pub")


@dataclass(frozen=True, kw_only=True, slots=True)
class LedgerStatus:
    """Where integration stands: leaves stored, entries in the tree, the oldest leaf
    waiting and how long it has waited, against the configured maximum delay."""

    stored: int
    integrated: int
    checkpoint_size: int | None
    checkpoint_time: str | None
    oldest_wait: float | None
    max_delay: float

    @property
    def pending(self) -> int:
        return self.stored - self.integrated

    @property
    def lagging(self) -> bool:
        return self.oldest_wait is not None and self.oldest_wait > self.max_delay

    def as_dict(self) -> dict[str, object]:
        return {
            "stored": self.stored,
            "integrated": self.integrated,
            "pending": self.pending,
            "oldest_pending_seconds": self.oldest_wait,
            "max_delay_seconds": self.max_delay,
            "lagging": self.lagging,
            "checkpoint_size": self.checkpoint_size,
            "checkpoint_time": self.checkpoint_time,
        }


class Ledger:
    """The access ledger stored beside the events of ``engine``'s store."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._signer: Signer | None = None
        self.integrator = Integrator(
            engine, self.writer, batch=settings.integration_batch, wall_clock=time.time
        )

    # -- keys ------------------------------------------------------------------------

    def signer(self, conn: Connection) -> Signer:
        """The signing key; created on first use, but never once checkpoints exist (a new
        key could not vouch for them)."""
        if self._signer is None:
            self._signer = self._load_signer(conn)
        return self._signer

    def _load_signer(self, conn: Connection) -> Signer:
        path = Path(self.settings.ledger_key)
        if path.exists():
            signer = load_signer(path)
        elif latest_checkpoint(conn) is None:
            public = public_key_path(self.settings)
            signer = generate_key_files(self.settings.ledger_origin, path, public)
        else:
            raise SigningKeyError(
                "the ledger's signing key is missing but checkpoints exist; restore it "
                "(or point VIGILE_LEDGER_KEY at it)",
                path=str(path),
            )
        if signer.name != self.settings.ledger_origin:
            raise SigningKeyError(
                f"key is named {signer.name!r} but the ledger's origin is "
                f"{self.settings.ledger_origin!r} (VIGILE_LEDGER_ORIGIN)",
                path=str(path),
            )
        return signer

    def require_signer(self) -> Signer:
        """The signing key, which must exist (never created here): a broker process at
        scale signs promises with the key the integrator signs checkpoints with, and two
        processes must never each make their own."""
        if self._signer is None:
            path = Path(self.settings.ledger_key)
            if not path.exists():
                raise SigningKeyError(
                    "the ledger's signing key is missing: with VIGILE_INTEGRATOR=external "
                    "every broker process needs the integrator's key (VIGILE_LEDGER_KEY); "
                    "`vigile ledger checkpoint` creates it on a new store",
                    path=str(path),
                )
            with connect(self.engine) as conn:
                self._signer = self._load_signer(conn)
        return self._signer

    def verifier(self) -> Verifier:
        return load_verifier(public_key_path(self.settings))

    def writer(self, conn: Connection, border: Border | None = None) -> LedgerWriter:
        """A writer appending in ``conn``'s transaction (going on from ``border``, a
        previous writer's, when nothing was appended or signed since)."""
        return LedgerWriter(
            conn,
            signer=self.signer(conn),
            origin=self.settings.ledger_origin,
            every=self.settings.checkpoint_every,
            seconds=self.settings.checkpoint_seconds,
            border=border,
        )

    # -- integration -----------------------------------------------------------------

    def integrate(self, *, checkpoint: bool = False) -> list[Integrated]:
        """Extend the tree with every leaf stored so far (see :mod:`~vigile.ledger.integrate`),
        and publish the checkpoint when one was signed."""
        done = self.integrator.integrate(checkpoint=checkpoint)
        if any(batch.checkpointed for batch in done) or checkpoint:
            self.publish()
        return done

    def promise(self, leaf: QueuedLeaf) -> str:
        """The signed promise of inclusion of a stored leaf (:mod:`~vigile.ledger.promise`)."""
        assert leaf.time_us is not None, "a leaf stored by the write path has its time"
        promise = Promise(
            origin=self.settings.ledger_origin,
            index=leaf.index,
            leaf_hash=leaf.hash,
            time=from_micros(leaf.time_us),
        )
        if self._signer is None:
            with connect(self.engine) as conn:
                self.signer(conn)
        assert self._signer is not None
        return sign_promise(promise, self._signer)

    def status(self) -> LedgerStatus:
        """How far integration has come, read from the store (any process can tell)."""
        with connect(self.engine) as conn:
            stored, integrated = queued_size(conn), ledger_size(conn)
            oldest = oldest_pending(conn, integrated) if stored > integrated else None
            latest = latest_checkpoint(conn)
        wait = None
        if oldest is not None and oldest.time_us is not None:
            wait = max(0.0, time.time() - oldest.time_us / 1e6)
        return LedgerStatus(
            stored=stored,
            integrated=integrated,
            checkpoint_size=None if latest is None else latest.size,
            checkpoint_time=None if latest is None else latest.time.isoformat(),
            oldest_wait=wait,
            max_delay=self.settings.integration_delay,
        )

    # -- checkpoints -----------------------------------------------------------------

    def checkpoint(self) -> StoredCheckpoint:
        """A checkpoint of the current tree, every stored leaf integrated first: the
        latest if it is current, else a new one."""
        self.integrator.integrate(checkpoint=True)
        with connect(self.engine) as conn:
            latest = latest_checkpoint(conn)
        assert latest is not None
        self.publish(latest)
        return latest

    def publish(self, checkpoint: StoredCheckpoint | None = None) -> Path | None:
        """Write the latest checkpoint to ``VIGILE_CHECKPOINT_FILE``, atomically.

        Only ever forward: the file is replaced only by a checkpoint of a tree that
        extends the one it holds (the stored nodes still give its root). A ledger whose
        newest entries were removed, then grown again, would otherwise sign a fork and
        overwrite the one witness of the removal. Refused, the file is left as it is,
        the error is logged and ``None`` returned; recording goes on (what was recorded
        stays recorded) and ``vigile ledger verify`` names the break.

        A file that cannot be written (a full disk) is left as it was too, with no
        temporary file beside it, and logged with ``None`` returned: this runs after the
        commit, and raising would have a caller take recorded events for lost (the
        broker would fail a request whose access is stored).
        """
        target = self.settings.checkpoint_file
        if not target:
            return None
        path = Path(target)
        with connect(self.engine) as conn:
            if checkpoint is None:
                checkpoint = latest_checkpoint(conn)
            if checkpoint is None:
                return None
            problem = self._not_forward(conn, path, checkpoint)
        if problem is not None:
            _log.error(
                "not publishing checkpoint %s to %s: %s (run `vigile ledger verify`)",
                checkpoint.size,
                path,
                problem,
            )
            return None
        try:
            _write_atomically(path, checkpoint.note)
        except OSError as exc:  # a full disk: the commit before stands all the same
            _log.error(
                "cannot publish checkpoint %s to %s: %s; the events are recorded, and the "
                "next checkpoint will be published",
                checkpoint.size,
                path,
                exc.strerror or exc,
            )
            return None
        return path

    def _not_forward(
        self, conn: Connection, path: Path, checkpoint: StoredCheckpoint
    ) -> str | None:
        """Why ``checkpoint`` may not replace the one published at ``path``, if it may not."""
        old = _published(path, self.signer(conn).verifier, self.settings.ledger_origin)
        if old is None or isinstance(old, str):
            return old
        if old.size > checkpoint.size:
            return (
                f"the published checkpoint covers {old.size:,} entries, this one only "
                f"{checkpoint.size:,}"
            )
        try:
            root = root_at(SqlNodes(conn), old.size) if old.size else old.root
        except LedgerError as exc:
            return f"the stored tree no longer holds the published one ({exc})"
        if root != old.root:
            return f"the stored tree does not extend the published checkpoint of {old.size:,}"
        return None

    # -- tlog-tiles ------------------------------------------------------------------

    def publish_tiles(
        self, folder: Path, *, on_tile: Callable[[Tile], None] | None = None
    ) -> tuple[int, int]:
        """Publish the tree as C2SP tlog-tiles under ``folder`` (:mod:`~vigile.ledger.tiles`),
        incrementally: from the size of the checkpoint already there (which must be this
        log's, and a prefix of this tree). Returns ``(previous size, size)``."""
        checkpoint = self.checkpoint()
        with connect(self.engine) as conn:
            since = self._published_size(conn, folder / "checkpoint", checkpoint)
            for tile in publish_tiles(conn, folder, checkpoint.note, checkpoint.size, since):
                if on_tile is not None:
                    on_tile(tile)
        return since, checkpoint.size

    def _published_size(self, conn: Connection, path: Path, checkpoint: StoredCheckpoint) -> int:
        if not path.exists():
            return 0
        problem = self._not_forward(conn, path, checkpoint)
        if problem is not None:
            raise LedgerError(f"{path}: not publishing over it: {problem}")
        published = _published(path, self.signer(conn).verifier, self.settings.ledger_origin)
        assert isinstance(published, Checkpoint)
        return published.size

    def tile(self, path: str) -> bytes:
        """One tile or entry bundle (``tile/...``) of the tree of the latest checkpoint."""
        wanted = parse_tile_path(path)
        with connect(self.engine) as conn:
            latest = latest_checkpoint(conn)
            size = 0 if latest is None else latest.size
            return TileReader(conn, size).read(wanted)

    # -- proofs ----------------------------------------------------------------------

    def prove(self, event_id: str) -> dict[str, object]:
        """Inclusion proof of an event in the latest checkpoint (signed first if needed),
        in the CLI contract's shape plus the checkpoint note."""
        checkpoint = self.checkpoint()
        with connect(self.engine) as conn:
            table, row = _find_event(conn, event_id)
            index = int(row[0])
            if index >= checkpoint.size:
                raise LedgerError(f"event {event_id} (entry {index}) is not in the ledger yet")
            leaf = event_leaf(table, row)
            proof = inclusion_proof(SqlNodes(conn), index, checkpoint.size)
        return {
            "leaf_index": index,
            "tree_size": checkpoint.size,
            "leaf": encode_b64(leaf),
            "leaf_hash": encode_b64(leaf_hash(leaf)),
            "proof": [encode_b64(node) for node in proof],
            "root": encode_b64(checkpoint.root),
            "checkpoint": checkpoint.note,
        }

    def consistency(self, old_size: int, new_size: int | None = None) -> dict[str, object]:
        """Consistency proof from ``old_size`` to ``new_size`` (default: the latest checkpoint)."""
        checkpoint = self.checkpoint()
        size2 = checkpoint.size if new_size is None else new_size
        if not 0 < old_size <= size2 <= checkpoint.size:
            raise LedgerError(
                f"sizes must satisfy 0 < OLD_SIZE <= NEW_SIZE <= {checkpoint.size:,} "
                f"(the latest checkpoint); got {old_size:,} and {size2:,}"
            )
        with connect(self.engine) as conn:
            nodes = SqlNodes(conn)
            root1, root2 = root_at(nodes, old_size), root_at(nodes, size2)
            proof = consistency_proof(nodes, old_size, size2)
        return {
            "size1": old_size,
            "size2": size2,
            "root1": encode_b64(root1),
            "root2": encode_b64(root2),
            "proof": [encode_b64(node) for node in proof],
            "checkpoint": checkpoint.note if size2 == checkpoint.size else None,
        }


def _write_atomically(path: Path, text: str) -> None:
    """``path`` holds ``text`` whole, or what it held before: the temporary file is
    synced before it replaces ``path``, and removed when anything fails."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _published(path: Path, verifier: Verifier, origin: str) -> Checkpoint | str | None:
    """The checkpoint published at ``path`` (``None``: nothing there yet), or why the
    file cannot be taken as one of this log's checkpoints."""
    try:
        published = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        return f"the published file cannot be read ({exc})"
    try:
        return parse_and_verify(published, verifier, origin=origin)
    except CheckpointError as exc:
        return f"the published file holds no checkpoint of this log ({exc})"


def _find_event(conn: Connection, event_id: str) -> tuple[str, tuple[Any, ...]]:
    """The table and row of the event with ``event_id``."""
    for table in t.EVENT_TABLES:
        row = conn.execute(select(table).where(table.c.id == event_id)).first()
        if row is not None:
            return table.name, tuple(row)
    raise LedgerError(f"no event with id {event_id!r} in the store")
