"""Messages from files: one ``.eml``, an mbox, or a Maildir folder.

Each message comes with where it was found (``FILE``, ``FILE#N`` for the N-th message of
an mbox, the file inside a Maildir), so a verdict names its message. A message larger
than :data:`~vigile.phishing.parse.MAX_MESSAGE_BYTES` is not read: it comes with an error
instead of its bytes.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vigile.errors import InputError
from vigile.phishing.parse import MAX_MESSAGE_BYTES

__all__ = ["FoundMessage", "read_messages"]


@dataclass(frozen=True, kw_only=True, slots=True)
class FoundMessage:
    """A message's place and bytes, or why it could not be read."""

    where: str
    raw: bytes | None
    error: str | None = None


def read_messages(path: Path) -> Iterator[FoundMessage]:
    """Every message of ``path``: a Maildir folder, an mbox file, or one message."""
    if path.is_dir():
        if not all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise InputError(f"{path}: a folder must be a Maildir (cur/, new/, tmp/)")
        yield from _maildir(path)
        return
    try:
        with path.open("rb") as stream:
            start = stream.read(5)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    if start == b"From ":
        yield from _mbox(path)
    else:
        yield _one(path)


def _one(path: Path) -> FoundMessage:
    try:
        if path.stat().st_size > MAX_MESSAGE_BYTES:
            return _too_large(str(path))
        return FoundMessage(where=str(path), raw=path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc


def _too_large(where: str) -> FoundMessage:
    return FoundMessage(
        where=where, raw=None, error=f"larger than {MAX_MESSAGE_BYTES:,} bytes: not checked"
    )


def _mbox(path: Path) -> Iterator[FoundMessage]:
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), 1):
            start, stop = getattr(box, "_toc")[key]  # noqa: B009 - its size, before reading
            where = f"{path}#{number}"
            if stop - start > MAX_MESSAGE_BYTES:
                yield _too_large(where)
            else:
                yield FoundMessage(where=where, raw=box.get_bytes(key))
    finally:
        box.close()


def _maildir(path: Path) -> Iterator[FoundMessage]:
    for sub in ("new", "cur"):
        for file in sorted((path / sub).iterdir()):
            if file.is_file() and not file.name.startswith("."):
                yield _one(file)
