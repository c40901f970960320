"""The tree published as C2SP tlog-tiles, checked from the published files alone with
the client of ``tlog_client`` (written from the specifications, not Vigile's proofs):
the checkpoint's signature, every root, inclusion of entries, consistency with an
earlier publication; the same over HTTP; the spec's own examples of paths and widths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.ledger import tlog_client as tlog
from tests.ledger.test_integrator import accesses
from vigile.api import create_app
from vigile.errors import VigileError
from vigile.ledger.service import Ledger
from vigile.ledger.tiles import Tile, parse_tile_path, tile_path, tiles_of
from vigile.record import Recorder
from vigile.store import Store

# -- the specification's examples (c2sp.org/tlog-tiles) --------------------------------


def test_the_index_is_written_in_groups_of_three_digits() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tile_path(None, 1000) == "tile/entries/x001/000"
    assert parse_tile_path("tile/0/x001/x234/067") == Tile(level=0, index=1234067, width=256)
    assert parse_tile_path("tile/entries/005.p/1") == Tile(level=None, index=5, width=1)
    for bad in ("tile/0/1234", "tile/00/000", "tile/0/000.p/0", "tile/0/000.p/256", "x/0/000"):
        with pytest.raises(VigileError):
            parse_tile_path(bad)


def test_a_tree_of_70000_has_the_tiles_the_spec_lists() -> None:
    """ "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
    level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
    17, and one partial level 2 tile of width 1" (and as many entry bundles as level-0
    tiles); "a tree of size 256 ... a full level 0 tile and a partial level 1 tile of
    width 1"."""
    tiles = [tile for tile in tiles_of(70_000) if tile.level is not None]
    full0 = [tile for tile in tiles if tile.level == 0 and tile.width == 256]
    assert len(full0) == 273
    assert [(t.level, t.width) for t in tiles if t.width != 256] == [(0, 112), (1, 17), (2, 1)]
    assert [t.index for t in tiles if t.level == 1] == [0, 1]
    bundles = [tile for tile in tiles_of(70_000) if tile.level is None]
    assert len(bundles) == 274
    assert [(t.level, t.index, t.width) for t in tiles_of(256)] == [
        (0, 0, 256),
        (None, 0, 256),
        (1, 0, 1),
    ]
    assert tiles_of(70_000, since=70_000 - 5)[0] == Tile(level=0, index=273, width=112)


# -- published files and HTTP, checked with the spec's client --------------------------


def _vkey(store: Store) -> str:
    return Ledger(store.engine, store.settings).verifier().vkey


def _check(fetch: tlog.Fetch, vkey: str, *, earlier: tlog.Checkpoint | None) -> tlog.Checkpoint:
    checkpoint = tlog.open_checkpoint(fetch("checkpoint").decode(), vkey)
    log = tlog.TiledLog(fetch, checkpoint.size)
    assert log.mth(0, checkpoint.size) == checkpoint.root
    for index in (0, 1, 255, 256, checkpoint.size // 2, checkpoint.size - 1):
        entry = log.entries(index)[index % 256]
        leaf = tlog.leaf_hash(entry)
        assert log.perfect(0, index) == leaf  # the bundle's entry is the tile's leaf
        path = log.audit_path(index, 0, checkpoint.size)
        assert tlog.root_from_path(index, checkpoint.size, leaf, path) == checkpoint.root
    if earlier is not None:  # consistency: the earlier tree is a prefix of this one
        assert log.mth(0, earlier.size) == earlier.root
    return checkpoint


@pytest.mark.slow
def test_published_tiles_verify_from_the_files_alone(store: Store, tmp_path: Path) -> None:
    Recorder(store).record(accesses(0, 700))
    folder = tmp_path / "log"
    run = subprocess.run(
        [sys.executable, "-m", "vigile", "ledger", "publish", str(folder), "--format", "json"],
        env={
            "VIGILE_DB": store.settings.db,
            "VIGILE_LEDGER_KEY": store.settings.ledger_key,
            **_path_env(),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert '"size": 700' in run.stdout

    def from_files(path: str) -> bytes:
        return (folder / path).read_bytes()

    vkey = _vkey(store)
    first = _check(from_files, vkey, earlier=None)
    assert first.size == 700
    assert (folder / "tile/0/002.p/188").exists()

    Recorder(store).record(accesses(700, 900))
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    ledger = Ledger(store.engine, store.settings)
    since, size = ledger.publish_tiles(folder)
    assert (since, size) == (700, 1600)
    full = folder / "tile/0/000"
    assert full.stat().st_mtime_ns == before[full]  # incremental: full tiles left alone
    second = _check(from_files, vkey, earlier=first)
    assert second.size == 1600
    tile = bytearray(full.read_bytes())
    tile[40] ^= 1  # one bit of one leaf hash: the client's root no longer matches
    full.write_bytes(bytes(tile))
    with pytest.raises(AssertionError):
        _check(from_files, vkey, earlier=first)


def test_tiles_over_http_verify_with_the_specs_client(store: Store) -> None:
    Recorder(store).record(accesses(0, 300))
    app = create_app(store.settings, store=store)
    with TestClient(app) as client:

        def over_http(path: str) -> bytes:
            answer = client.get(f"/ledger/{path}")
            assert answer.status_code == 200, (path, answer.text)
            return answer.content

        head = client.get("/ledger/checkpoint")
        assert head.headers["content-type"] == "text/plain; charset=utf-8"
        checkpoint = _check(over_http, _vkey(store), earlier=None)
        assert checkpoint.size == 300
        tile = client.get("/ledger/tile/0/000")
        assert tile.headers["content-type"] == "application/octet-stream"
        assert "immutable" in tile.headers["cache-control"]
        missing = client.get("/ledger/tile/0/005")
        assert missing.status_code == 404
        assert set(missing.json()) == {"error"}
    app.state.broker.close()


def _path_env() -> dict[str, str]:
    wanted = ("PATH", "PYTHONPATH", "HOME")
    return {key: value for key, value in os.environ.items() if key in wanted}
