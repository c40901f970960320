"""Signed notes and their keys, against the known answers of Go's ``sumdb/note``.

Known-answer source: golang.org/x/mod ``sumdb/note/note_test.go`` (TestSign, TestOpen,
TestNewVerifier) and the package documentation in ``note.go``, BSD-3-Clause, The Go
Authors. Ed25519 is deterministic, so the signature must match byte for byte.
"""

from __future__ import annotations

import pytest

from vigile.ledger.errors import CheckpointError, SigningKeyError
from vigile.ledger.note import Signer, Verifier, key_id, open_note, sign_note

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLo"
    "x33WWd1RvMc+QQ=\n"
)


def test_go_known_answer_signature() -> None:
    signer = Signer.from_skey(PETER_SKEY)
    assert sign_note(TEXT, [signer]) == TEXT + "\n" + PETER_SIG
    assert signer.verifier.vkey == PETER_VKEY
    assert signer.skey() == PETER_SKEY
    assert signer.key_id.hex() == "c74f20a3"


def test_go_known_answer_open() -> None:
    peter, enoch = Verifier.from_vkey(PETER_VKEY), Verifier.from_vkey(ENOCH_VKEY)
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    # Each key verifies its own signature; the other one is an unknown key, ignored.
    assert open_note(note, peter) == TEXT
    assert open_note(note, enoch) == TEXT
    assert enoch.key_id == key_id("EnochRoot", enoch.public_key)


def test_go_known_answer_invalid_signature() -> None:
    # TestOpen: "ABCD" spliced into the signature must fail for the known key.
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(
        CheckpointError, match=r"line 4: bad signature by key PeterNeumann\+c74f20a3"
    ):
        open_note(TEXT + "\n" + bad, Verifier.from_vkey(PETER_VKEY))


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
    ids=["no-signatures", "blank-only", "no-final-newline", "control", "bad-name", "trailing"],
)
def test_go_malformed_notes(note: str) -> None:
    with pytest.raises(CheckpointError):
        open_note(note, Verifier.from_vkey(PETER_VKEY))


def test_invalid_utf8_names_its_line() -> None:
    with pytest.raises(CheckpointError, match="line 2: a note must be valid UTF-8"):
        open_note(b"one\n\xff\n\n" + PETER_SIG.encode(), Verifier.from_vkey(PETER_VKEY))


def test_crlf_is_a_control_character() -> None:
    note = TEXT.replace("\n", "\r\n") + "\r\n" + PETER_SIG
    with pytest.raises(CheckpointError, match=r"line 1: control character U\+000D"):
        open_note(note, Verifier.from_vkey(PETER_VKEY))


def test_too_many_signatures() -> None:
    with pytest.raises(CheckpointError, match="more than 100 signatures"):
        open_note(TEXT + "\n" + PETER_SIG * 101, Verifier.from_vkey(PETER_VKEY))


def test_no_signature_by_the_expected_key() -> None:
    with pytest.raises(CheckpointError, match=r"no signature by key EnochRoot\+af0cfe78"):
        open_note(TEXT + "\n" + PETER_SIG, Verifier.from_vkey(ENOCH_VKEY))


@pytest.mark.parametrize(
    "vkey",
    [
        PETER_VKEY[:-1],
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),  # key id of another key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        # Go's own cases: a key of the wrong length, an unknown algorithm (with their ids).
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(SigningKeyError):
        Verifier.from_vkey(vkey)


@pytest.mark.parametrize(
    "skey",
    [PETER_SKEY[len("PRIVATE+") :], PETER_SKEY.replace("c74f20a3", "c74f20a4"), PETER_SKEY[:-2]],
)
def test_bad_signer_keys(skey: str) -> None:
    with pytest.raises(SigningKeyError):
        Signer.from_skey(skey)


def test_key_id_case_is_free_as_in_go() -> None:
    assert Verifier.from_vkey(PETER_VKEY.replace("c74f20a3", "C74F20A3")).key_id.hex() == "c74f20a3"


def test_signer_never_shows_its_secret() -> None:
    signer = Signer.from_skey(PETER_SKEY)
    assert "AYEKF" not in repr(signer)
    assert repr(signer) == "Signer(name='PeterNeumann', key_id='c74f20a3')"


def test_sign_refuses_bad_texts() -> None:
    signer = Signer.generate("example.com/log")
    with pytest.raises(CheckpointError, match="end with a newline"):
        sign_note("abc", [signer])
    with pytest.raises(CheckpointError, match="at least one signature"):
        sign_note("abc\n", [])
    with pytest.raises(SigningKeyError):
        Signer.generate("has space")
