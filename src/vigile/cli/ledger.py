"""``vigile ledger``: checkpoints, proofs, verification of the access ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from vigile.cli.output import Format, console, err, print_json, progress_bar
from vigile.errors import InputError
from vigile.ledger.encoding import encode_b64
from vigile.ledger.errors import LedgerError
from vigile.ledger.integrate import Integrated
from vigile.ledger.keyfile import load_verifier
from vigile.ledger.running import IntegratorLoop
from vigile.ledger.service import Ledger, public_key_path
from vigile.ledger.sql import StoredCheckpoint
from vigile.ledger.verify_proofs import verify_consistency_bundle, verify_inclusion_bundle
from vigile.ledger.verify_store import verify_ledger
from vigile.settings import Settings
from vigile.store import Store
from vigile.store.engine import connect

__all__ = ["register"]

ledger_app = typer.Typer(
    help="The tamper-evident access ledger: checkpoints, proofs, verification.",
    no_args_is_help=True,
)
FormatOption = typer.Option(Format.TEXT, "--format", help="Output format: text or json.")
_BUNDLE_KEYS = ("leaf_index", "tree_size", "leaf", "leaf_hash", "proof", "root")


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")


@ledger_app.command()
def checkpoint(
    out: Path | None = typer.Option(None, "--out", help="Also write the signed note here."),
    format: Format = FormatOption,
) -> None:
    """Sign a checkpoint of the current tree (or show the latest if nothing changed)."""
    with Store.open() as store:
        latest = Ledger(store.engine, store.settings).checkpoint()
        vkey = load_verifier(public_key_path(store.settings)).vkey
    if out is not None:
        out.write_text(latest.note)
    if format is Format.JSON:
        print_json(_checkpoint_json(latest, vkey))
    else:
        console.print(latest.note, end="", markup=False, highlight=False)


def _checkpoint_json(checkpoint: StoredCheckpoint, vkey: str) -> dict[str, Any]:
    signature_line = checkpoint.note.rstrip("\n").rsplit("\n", 1)[-1]
    name, signature = signature_line.split(" ")[1:3]
    return {
        "origin": name,
        "size": checkpoint.size,
        "root": encode_b64(checkpoint.root),
        "time": checkpoint.time.isoformat().replace("+00:00", "Z"),
        "signature": signature,
        "key_id": vkey.split("+")[1],
        "public_key": vkey,
        "note": checkpoint.note,
    }


@ledger_app.command()
def prove(
    event_id: str = typer.Argument(..., help="Id of a stored event."),
    format: Format = FormatOption,
) -> None:
    """Inclusion proof of an event in the latest checkpoint."""
    with Store.open() as store:
        bundle = Ledger(store.engine, store.settings).prove(event_id)
    proof = {key: bundle[key] for key in _BUNDLE_KEYS}
    if format is Format.JSON:
        print_json(proof)
        return
    console.print(
        f"Event {event_id} is entry {proof['leaf_index']:,} of the ledger of "
        f"{proof['tree_size']:,} entries (root {proof['root']}); proof of "
        f"{len(bundle['proof'])} hashes (`--format json` for the bundle)."  # type: ignore[arg-type]
    )


@ledger_app.command()
def consistency(
    old_size: int = typer.Argument(..., help="The earlier tree size."),
    to: int | None = typer.Option(None, "--to", help="The later size (default: latest)."),
    format: Format = FormatOption,
) -> None:
    """Consistency proof: the tree of OLD_SIZE is a prefix of the later one."""
    with Store.open() as store:
        result = Ledger(store.engine, store.settings).consistency(old_size, to)
    proof = {key: result[key] for key in ("size1", "size2", "root1", "root2", "proof")}
    if format is Format.JSON:
        print_json(proof)
    else:
        console.print(
            f"{proof['size1']:,} -> {proof['size2']:,}: proof of "
            f"{len(result['proof'])} hashes (`--format json` for the bundle)."  # type: ignore[arg-type]
        )


@ledger_app.command()
def verify(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="A checkpoint kept outside the database (repeatable)."
    ),
    key: Path | None = typer.Option(
        None, "--key", help="Verifier key (default: VIGILE_LEDGER_KEY.pub)."
    ),
    format: Format = FormatOption,
) -> None:
    """Recompute the tree from the stored events and check every checkpoint."""
    settings = Settings.from_env()
    verifier = load_verifier(key or public_key_path(settings))
    published = [_read(path) for path in checkpoint]
    if settings.checkpoint_file and Path(settings.checkpoint_file).exists():
        published.append(_read(Path(settings.checkpoint_file)))
    with Store.open(settings) as store, connect(store.engine) as conn:
        total = store.counts()
        events = sum(total[name] for name in ("ticket_events", "signins", "accesses"))
        with progress_bar("Verifying the ledger", total=max(events, 1), counts=True) as update:
            report = verify_ledger(conn, verifier, published=published, progress=update)
    if format is Format.JSON:
        problem = report.problem
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "pending": report.pending,
                "checkpoints": report.checkpoints,
                "published": report.published,
                "root": report.root,
                "first_bad_entry": None if problem is None else problem.entry,
                "problem": None if problem is None else problem.message,
            }
        )
    elif report.problem is None:
        waiting = f" ({report.pending:,} more awaiting the integrator)" if report.pending else ""
        console.print(
            f"[green]ok[/]: {report.entries:,} entries match their events{waiting}; "
            f"{report.checkpoints} stored and {report.published} published checkpoints verified."
        )
    else:
        err.print(f"[bold red]ledger tampered:[/] {report.problem.message}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command(name="check-proof")
def check_proof(
    proof: Path = typer.Argument(..., help="Proof bundle (JSON) from `prove` or `consistency`."),
    checkpoint: Path = typer.Option(..., "--checkpoint", help="The signed checkpoint note."),
    key: Path = typer.Option(..., "--key", help="The ledger's verifier key."),
    previous: Path | None = typer.Option(
        None, "--previous", help="For consistency: the older checkpoint note."
    ),
) -> None:
    """Verify a proof offline: needs only the public key, a checkpoint and the proof."""
    verifier = load_verifier(key)
    bundle = _bundle(proof)
    note = _read(checkpoint)
    try:
        if "leaf_index" in bundle:
            done = verify_inclusion_bundle(verifier=verifier, checkpoint_note=note, bundle=bundle)
            message = f"entry {done.leaf_index:,} is in the ledger of {done.checkpoint.size:,}"
        else:
            older = _read(previous) if previous else None
            checked = verify_consistency_bundle(
                verifier=verifier, checkpoint_note=note, bundle=bundle, previous_note=older
            )
            message = f"the tree of {checked.size1:,} is a prefix of {checked.checkpoint.size:,}"
    except LedgerError as exc:
        raise InputError(f"{proof}: proof rejected: {exc}") from exc
    console.print(f"[green]ok[/]: {message}")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc


def _bundle(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: a proof bundle is a JSON object")
    return data


@ledger_app.command()
def integrate(
    once: bool = typer.Option(
        False, "--once", help="Integrate what is stored now, then exit (no lock held)."
    ),
    format: Format = FormatOption,
) -> None:
    """Extend the tree from the stored leaves and sign checkpoints: the ledger's one
    integrator (VIGILE_INTEGRATOR=external). Runs until interrupted; a second one
    started meanwhile stands by, and says so, until the first stops."""
    with Store.open() as store:
        ledger = Ledger(store.engine, store.settings)
        if once:
            done = ledger.integrate()
            entries = sum(batch.entries for batch in done)
            size = done[-1].size if done else ledger.status().integrated
            if format is Format.JSON:
                print_json({"integrated": entries, "size": size})
            else:
                console.print(f"integrated {entries:,} entries; the tree holds {size:,}")
            return
        loop = IntegratorLoop(
            ledger,
            on_wait=lambda why: err.print(f"standing by: {why}", highlight=False),
            on_batch=_announce if format is Format.TEXT else _announce_json,
            on_error=lambda exc: err.print(f"[red]error:[/] {exc}; retrying", highlight=False),
        )
        err.print(
            f"integrating {store.settings.db if '://' not in store.settings.db else 'the store'}"
            f" (looking every {loop.poll:.3g} s; Ctrl-C stops)",
            highlight=False,
        )
        try:
            loop.run()
        except KeyboardInterrupt:
            loop.stop()


def _announce(batch: Integrated) -> None:
    wait = "" if batch.longest_wait is None else f", longest wait {batch.longest_wait:.3f} s"
    signed = ", checkpoint signed" if batch.checkpointed else ""
    err.print(
        f"integrated {batch.entries:,} entries (tree {batch.size:,}){wait}{signed}",
        highlight=False,
    )


def _announce_json(batch: Integrated) -> None:
    print_json(
        {
            "first": batch.first,
            "size": batch.size,
            "entries": batch.entries,
            "longest_wait": batch.longest_wait,
            "checkpointed": batch.checkpointed,
        }
    )


@ledger_app.command()
def status(format: Format = FormatOption) -> None:
    """Where integration stands: leaves stored, entries in the tree, how long the oldest
    waiting leaf has waited (against VIGILE_INTEGRATION_DELAY), the latest checkpoint."""
    with Store.open() as store:
        state = Ledger(store.engine, store.settings).status()
    if format is Format.JSON:
        print_json(state.as_dict())
        return
    wait = "none waiting" if state.oldest_wait is None else f"oldest {state.oldest_wait:.3f} s"
    flag = " [red](lagging)[/]" if state.lagging else ""
    console.print(
        f"stored {state.stored:,}; integrated {state.integrated:,}; pending "
        f"{state.pending:,} ({wait}; maximum delay {state.max_delay:g} s){flag}",
        highlight=False,
    )
    if state.checkpoint_size is not None:
        console.print(
            f"latest checkpoint: {state.checkpoint_size:,} entries at {state.checkpoint_time}",
            highlight=False,
        )


@ledger_app.command()
def publish(
    folder: Path = typer.Argument(..., help="Folder to publish the tiles in (created)."),
    format: Format = FormatOption,
) -> None:
    """Publish the tree as C2SP tlog-tiles (c2sp.org/tlog-tiles) in FOLDER, for a static
    web server: tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>], then the signed
    checkpoint. Incremental: only what the tree added since the checkpoint in FOLDER."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    written = 0

    def counted(_: object) -> None:
        nonlocal written
        written += 1

    with Store.open() as store:
        ledger = Ledger(store.engine, store.settings)
        folder.mkdir(parents=True, exist_ok=True)
        since, size = ledger.publish_tiles(folder, on_tile=counted)
    if format is Format.JSON:
        print_json({"folder": str(folder), "from": since, "size": size, "files": written})
    else:
        console.print(
            f"published {size:,} entries to {folder} ({written:,} tiles and bundles written; "
            f"{since:,} were published before)",
            highlight=False,
        )
