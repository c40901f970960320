"""Key files: created 0600 and exclusively, refused when others can read them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ledger.test_note import PETER_SKEY, PETER_VKEY
from vigile.ledger.errors import SigningKeyError
from vigile.ledger.keyfile import (
    generate_key_files,
    load_signer,
    load_verifier,
    write_signer_key,
)
from vigile.ledger.note import Signer


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask of 0, so only our own mode argument can keep the key private."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_generated_private_key_is_0600(tmp_path: Path) -> None:
    private, public = tmp_path / "ledger.key", tmp_path / "ledger.vkey"
    signer = generate_key_files("vigile.example/ledger", private, public)
    assert _mode(private) == 0o600
    assert _mode(public) == 0o644
    assert private.read_text() == signer.skey() + "\n"
    assert public.read_text() == signer.verifier.vkey + "\n"


def test_key_files_load_back(tmp_path: Path) -> None:
    private, public = tmp_path / "ledger.key", tmp_path / "ledger.vkey"
    signer = generate_key_files("vigile.example/ledger", private, public)
    assert load_signer(private).verifier == signer.verifier
    assert load_verifier(public) == signer.verifier


def test_go_key_files_are_read(tmp_path: Path) -> None:
    private, public = tmp_path / "peter.key", tmp_path / "peter.vkey"
    write_signer_key(Signer.from_skey(PETER_SKEY), private)
    public.write_text(PETER_VKEY + "\n")
    assert load_signer(private).skey() == PETER_SKEY
    assert load_verifier(public).vkey == PETER_VKEY


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o601, 0o644])
def test_private_key_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    private = tmp_path / "ledger.key"
    generate_key_files("vigile.example/ledger", private, tmp_path / "ledger.vkey")
    private.chmod(mode)
    with pytest.raises(SigningKeyError, match=rf"accessible by group or others \(mode 0{mode:o}\)"):
        load_signer(private)


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    private, public = tmp_path / "ledger.key", tmp_path / "ledger.vkey"
    private.write_text("precious\n")
    with pytest.raises(SigningKeyError, match="already exists"):
        generate_key_files("vigile.example/ledger", private, public)
    assert private.read_text() == "precious\n"
    assert not public.exists()


def test_no_orphan_private_key_when_the_public_one_fails(tmp_path: Path) -> None:
    private, public = tmp_path / "ledger.key", tmp_path / "ledger.vkey"
    public.write_text("in the way\n")
    with pytest.raises(SigningKeyError, match=r"ledger\.vkey: already exists"):
        generate_key_files("vigile.example/ledger", private, public)
    assert not private.exists()


def test_symbolic_links_are_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    link = tmp_path / "ledger.key"
    link.symlink_to(target)
    with pytest.raises(SigningKeyError):
        write_signer_key(Signer.generate("vigile.example/ledger"), link)
    assert not target.exists()
    target.write_text(PETER_SKEY + "\n")
    target.chmod(0o600)
    with pytest.raises(SigningKeyError, match="cannot open"):
        load_signer(link)


def test_unreadable_and_malformed_key_files_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.key"
    with pytest.raises(SigningKeyError, match=r"missing\.key: cannot open"):
        load_signer(missing)
    garbled = tmp_path / "garbled.vkey"
    garbled.write_text("not a key\n")
    with pytest.raises(SigningKeyError, match=r"garbled\.vkey: malformed verifier key"):
        load_verifier(garbled)
    with pytest.raises(SigningKeyError, match="not a regular file"):
        load_verifier(tmp_path)
    large = tmp_path / "large.vkey"
    large.write_bytes(b"x" * 5000)
    with pytest.raises(SigningKeyError, match="too large"):
        load_verifier(large)


def test_the_secret_never_appears_in_errors(tmp_path: Path) -> None:
    private = tmp_path / "ledger.key"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, PETER_SKEY.replace("c74f20a3", "00000000").encode())
    os.close(fd)
    with pytest.raises(SigningKeyError) as caught:
        load_signer(private)
    assert "AYEKF" not in str(caught.value)
