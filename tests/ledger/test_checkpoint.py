"""Checkpoints (c2sp.org/tlog-checkpoint): known answer, round trip, tampering, malformed notes.

Known-answer source: the test log of github.com/mhutchinson/merkle at commit
8706d323d311a5bf99b5b194ed98892e4b39c86a, ``testdata/log/checkpoint{,.8,.14}``, built by
``testdata/build_log.sh`` with trillian-tessera's posix-oneshot from the leaves "one" …
"fifteen" and the public test key pair below (Apache-2.0). Our tree must give the same
roots and our signer the same checkpoint, byte for byte (Ed25519 is deterministic).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vigile.ledger.checkpoint import Checkpoint, parse_and_verify, sign_checkpoint
from vigile.ledger.compact import MemoryTree
from vigile.ledger.encoding import decode_b64
from vigile.ledger.encoding import encode_b64 as _b64
from vigile.ledger.errors import CheckpointError
from vigile.ledger.note import Signer, Verifier

TESSERA_SKEY = (
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg"
)
TESSERA_VKEY = "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
WORDS = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
TESSERA_CHECKPOINTS = {
    8: "example.com/log/testdata\n8\nvhkRqagHUb0/LAW2ZljDefc26fRE2M3RH7D7LuDmNN0=\n\n"
    "— example.com/log/testdata M9e0lpc0lkPmIA2gzLvfXWinz00GGKrQRO8hxu6maAUTyTMJs6+925ir53vPU"
    "VDUrqroJ4bGXG0YMeJy9tC6ASkoTQ8=\n",
    14: "example.com/log/testdata\n14\nX563LrpqupgW22X68TY1Z0EbsHoMkL/1sIb8DFDxPaI=\n\n"
    "— example.com/log/testdata M9e0lrB2XxfPi7eImgmhbCnLlXKUQ23RHsPZYJToeTbj4pnQcpys2AWlEHDo0"
    "agLGwJKpVwMKbur7eVvn9db6D5JGgM=\n",
    15: "example.com/log/testdata\n15\nztShEESP/U2eoPuUaLyhTgOgfhRUShjIrcnotnqv6h0=\n\n"
    "— example.com/log/testdata M9e0llwvabgYByGfcSW7R3qiUiOvdTgW2PGQWEAvDsOegOAsW38t3NOJQ8+2t"
    "XSyzylNMExtqemkDfZ+4BoB+oEMWwg=\n",
}

SIGNER = Signer.generate("vigile.example/ledger")
VERIFIER = SIGNER.verifier
ROOT = bytes(range(32))
TIME = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("size", sorted(TESSERA_CHECKPOINTS))
def test_tessera_known_answer(size: int) -> None:
    tree = MemoryTree()
    tree.extend(word.encode() for word in WORDS.split())
    checkpoint = Checkpoint(origin="example.com/log/testdata", size=size, root=tree.root(size))
    signer = Signer.from_skey(TESSERA_SKEY)
    assert signer.verifier.vkey == TESSERA_VKEY
    assert sign_checkpoint(checkpoint, signer) == TESSERA_CHECKPOINTS[size]
    verifier = Verifier.from_vkey(TESSERA_VKEY)
    assert parse_and_verify(TESSERA_CHECKPOINTS[size], verifier) == checkpoint


def test_round_trip_with_time_and_extensions() -> None:
    checkpoint = Checkpoint(
        origin=VERIFIER.name, size=42, root=ROOT, time=TIME, extensions=("other data",)
    )
    note = sign_checkpoint(checkpoint, SIGNER)
    assert note.startswith(
        f"vigile.example/ledger\n42\n{_b64(ROOT)}\ntime 2026-05-01T12:00:00Z\nother data\n\n— "
    )
    assert parse_and_verify(note, VERIFIER) == checkpoint
    assert parse_and_verify(note.encode(), VERIFIER) == checkpoint


def test_time_is_kept_in_utc_at_whole_seconds() -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 5, 1, 14, 0, 0, 999_999, tzinfo=paris)
    checkpoint = Checkpoint(origin="o", size=0, root=ROOT, time=local)
    assert checkpoint.time == TIME
    assert checkpoint.time is not None
    assert checkpoint.time.tzinfo is UTC
    with pytest.raises(CheckpointError, match="timezone-aware"):
        Checkpoint(origin="o", size=0, root=ROOT, time=datetime(2026, 5, 1))


def test_tampered_body_is_rejected() -> None:
    note = sign_checkpoint(Checkpoint(origin=VERIFIER.name, size=42, root=ROOT), SIGNER)
    with pytest.raises(
        CheckpointError, match=r"line 5: bad signature by key vigile\.example/ledger"
    ):
        parse_and_verify(note.replace("\n42\n", "\n43\n"), VERIFIER)


def test_tampered_signature_is_rejected() -> None:
    note = sign_checkpoint(Checkpoint(origin=VERIFIER.name, size=42, root=ROOT), SIGNER)
    head, signature = note.rsplit(" ", 1)
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    with pytest.raises(CheckpointError, match="line 5: bad signature"):
        parse_and_verify(f"{head} {flipped}", VERIFIER)


def test_another_key_of_the_same_name_is_rejected() -> None:
    impostor = Signer.generate(VERIFIER.name)
    note = sign_checkpoint(Checkpoint(origin=VERIFIER.name, size=1, root=ROOT), impostor)
    with pytest.raises(CheckpointError, match=r"no signature by key .* signed by unknown key"):
        parse_and_verify(note, VERIFIER)


def test_a_wrong_key_id_makes_an_unknown_key() -> None:
    note = sign_checkpoint(Checkpoint(origin=VERIFIER.name, size=1, root=ROOT), SIGNER)
    head, signature = note.rsplit(" ", 1)
    raw = decode_b64(signature.strip())
    assert raw is not None
    forged = _b64(bytes([raw[0] ^ 1]) + raw[1:])
    with pytest.raises(CheckpointError, match="no signature by key"):
        parse_and_verify(f"{head} {forged}\n", VERIFIER)


def test_cosignatures_of_unknown_keys_are_ignored() -> None:
    checkpoint = Checkpoint(origin=VERIFIER.name, size=7, root=ROOT)
    witness = Signer.generate("witness.example")
    note = sign_checkpoint(checkpoint, SIGNER)
    cosigned = note + sign_checkpoint(checkpoint, witness).split("\n\n", 1)[1]
    assert parse_and_verify(cosigned, VERIFIER) == checkpoint


def test_origin_must_be_the_expected_one() -> None:
    signer = Signer.generate("shared-key")
    note = sign_checkpoint(Checkpoint(origin="log-a", size=1, root=ROOT), signer)
    with pytest.raises(CheckpointError, match="line 1: origin 'log-a' is not the expected"):
        parse_and_verify(note, signer.verifier)
    assert parse_and_verify(note, signer.verifier, origin="log-a").origin == "log-a"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("vigile.example/ledger\n42\n", r"line 3: a checkpoint has at least 3 lines"),
        ("vigile.example/ledger\n042\n{root}\n", r"line 2: tree size '042'"),
        ("vigile.example/ledger\n-1\n{root}\n", r"line 2: tree size '-1'"),
        ("vigile.example/ledger\n18446744073709551616\n{root}\n", r"line 2: .* 64 bits"),
        ("vigile.example/ledger\n4\nAAAA\n", r"line 3: root hash has 3 bytes"),
        ("vigile.example/ledger\n4\n{root} \n", r"line 3: root hash is not canonical"),
        ("vigile.example/ledger\n4\n{root}\ntime 2026-05-01\n", r"line 4: time '2026-05-01'"),
        ("vigile.example/ledger\n4\n{root}\ntime 2026-02-30T00:00:00Z\n", r"line 4: .*valid date"),
        ("vigile.example/ledger\n4\n{root}\nx\ntime {t}\ntime {t}\n", r"line 6: a second time"),
    ],
)
def test_malformed_checkpoints_name_their_line(body: str, message: str) -> None:
    text = body.format(root=_b64(ROOT), t="2026-05-01T12:00:00Z")
    note = text + "\n" + _signature_line(text)
    with pytest.raises(CheckpointError, match=message):
        parse_and_verify(note, VERIFIER)


def test_malformed_signature_lines_name_their_line() -> None:
    text = f"vigile.example/ledger\n1\n{_b64(ROOT)}\n"
    good = _signature_line(text)
    with pytest.raises(CheckpointError, match="line 6: a signature line starts with an em dash"):
        parse_and_verify(text + "\n" + good + good.replace("—", "-"), VERIFIER)
    with pytest.raises(CheckpointError, match="line 5: malformed signature"):
        parse_and_verify(text + "\n— vigile.example/ledger not*base64\n", VERIFIER)


def test_an_empty_extension_line_splits_the_note_elsewhere() -> None:
    # A blank line inside the text would be read as the end of the text.
    text = f"vigile.example/ledger\n1\n{_b64(ROOT)}\n"
    with pytest.raises(CheckpointError):
        parse_and_verify(text + "\n\n" + _signature_line(text), VERIFIER)


@pytest.mark.parametrize(
    "fields",
    [
        {"origin": ""},
        {"origin": "two\nlines"},
        {"size": -1},
        {"size": 2**64},
        {"root": b"short"},
        {"extensions": ("",)},
        {"extensions": ("time 2026-05-01T12:00:00Z",)},
    ],
)
def test_checkpoint_fields_are_validated(fields: dict[str, object]) -> None:
    base = Checkpoint(origin="o", size=1, root=ROOT)
    with pytest.raises(CheckpointError):
        replace(base, **fields)


def _signature_line(text: str) -> str:
    return "— " + SIGNER.name + " " + _b64(SIGNER.key_id + SIGNER.sign(text.encode())) + "\n"
