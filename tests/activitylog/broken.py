"""A gzip activity log cut short, and the line where its stream breaks, found by a
reference that shares nothing with the reader: zlib over the bytes that are left."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import orjson


def sign_ins(count: int) -> bytes:
    """``count`` valid lines, one sign-in each, a second apart, in time order."""
    return b"".join(
        orjson.dumps(
            {
                "kind": "signin",
                "time": f"2021-05-20T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
                "id": f"e-{n}",
                "agent": f"a-{n % 7}",
                "session": f"s-{n % 97}-{n * 7919 % 10007}",  # varied: it compresses less
                "ip": f"198.51.100.{n % 250}",
                "outcome": "success",
            }
        )
        + b"\n"
        for n in range(count)
    )


def truncated_gzip(path: Path, *, lines: int = 10_000, keep: float = 0.85) -> int:
    """Writes ``lines`` sign-ins gzipped and cut to ``keep`` of their compressed bytes;
    returns the number of the first line that cannot be read whole (so the number of
    the last whole line, plus one)."""
    cut = gzip.compress(sign_ins(lines))
    cut = cut[: int(len(cut) * keep)]
    path.write_bytes(cut)
    readable = zlib.decompressobj(wbits=31).decompress(cut)
    return readable.count(b"\n") + 1
