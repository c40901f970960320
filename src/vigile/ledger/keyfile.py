"""Key files of the checkpoint signer: a secret signer key and a public verifier key.

Both hold one line in the text encodings of Go's ``sumdb/note`` (see
:mod:`vigile.ledger.note`), so ``note.NewSigner`` and ``note.NewVerifier`` read them.

The private key file is created with mode 0600 atomically (``O_CREAT | O_EXCL``, never
over an existing file, never through a symbolic link) and is refused on load when
group or others have any access to it, as OpenSSH does for its keys: a log whose
signing key others can read can no longer prove anything.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from vigile.ledger.errors import SigningKeyError
from vigile.ledger.note import Signer, Verifier

__all__ = [
    "generate_key_files",
    "load_signer",
    "load_verifier",
    "write_signer_key",
    "write_verifier_key",
]

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
_MAX_KEY_FILE = 4096  # a key line is about 100 bytes; refuse to slurp anything big
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def generate_key_files(name: str, private_path: Path, public_path: Path) -> Signer:
    """Create a new signing key named ``name``; write both key files; return the signer.

    Neither file may exist already. If the public file cannot be written, the private
    one just created is removed again, so no orphan secret is left behind.
    """
    signer = Signer.generate(name)
    write_signer_key(signer, private_path)
    try:
        write_verifier_key(signer.verifier, public_path)
    except SigningKeyError:
        Path(private_path).unlink(missing_ok=True)
        raise
    return signer


def write_signer_key(signer: Signer, path: Path) -> None:
    """Write the secret key of ``signer`` to a new file readable by its owner only."""
    _write_new(Path(path), signer.skey() + "\n", PRIVATE_MODE)


def write_verifier_key(verifier: Verifier, path: Path) -> None:
    """Write the verifier key to a new file, for anyone who checks checkpoints."""
    _write_new(Path(path), verifier.vkey + "\n", PUBLIC_MODE)


def load_signer(path: Path) -> Signer:
    """Read a signer key file; refuse it if group or others have any access to it."""
    text = _read(Path(path), private=True)
    try:
        return Signer.from_skey(text)
    except SigningKeyError as exc:
        raise SigningKeyError(exc.reason, path=str(path)) from exc


def load_verifier(path: Path) -> Verifier:
    """Read a verifier key file."""
    text = _read(Path(path), private=False)
    try:
        return Verifier.from_vkey(text)
    except SigningKeyError as exc:
        raise SigningKeyError(exc.reason, path=str(path)) from exc


def _write_new(path: Path, text: str, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError as exc:
        raise SigningKeyError(
            "already exists; refusing to overwrite a key", path=str(path)
        ) from exc
    except OSError as exc:
        raise SigningKeyError(f"cannot create: {exc.strerror}", path=str(path)) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise SigningKeyError(f"cannot write: {exc.strerror}", path=str(path)) from exc


def _read(path: Path, *, private: bool) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    except OSError as exc:
        raise SigningKeyError(f"cannot open: {exc.strerror}", path=str(path)) from exc
    try:
        # fstat the open file, so what is checked is what is read.
        _check_file(os.fstat(fd), path, private=private)
        data = _read_at_most(fd, _MAX_KEY_FILE + 1)
    finally:
        os.close(fd)
    if len(data) > _MAX_KEY_FILE:
        raise SigningKeyError("too large for a key file", path=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SigningKeyError("not UTF-8 text", path=str(path)) from exc


def _check_file(info: os.stat_result, path: Path, *, private: bool) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SigningKeyError("not a regular file", path=str(path))
    if private and info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        raise SigningKeyError(
            f"private key is accessible by group or others (mode {mode:04o}); "
            f"run `chmod 600 {path}`",
            path=str(path),
        )


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = os.read(fd, limit - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
