"""Hostile messages never crash the check and stay within bounded time and memory: huge,
deeply nested, thousands of parts or headers, broken encodings, header injection, and
arbitrary bytes (Hypothesis)."""

from __future__ import annotations

import time
import tracemalloc

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigile.phishing import MAX_MESSAGE_BYTES, Guard, ProviderDomains, parse_message

GUARD = Guard(provider=ProviderDomains.of(("vigile.example",)))


def _deep(levels: int) -> bytes:
    parts = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
        for i in range(levels)
    )
    return b"From: a@b.example\r\nSubject: deep\r\n" + parts + b"text\r\n"


def _many_parts(count: int) -> bytes:
    part = b"--x\r\nContent-Type: text/plain\r\n\r\nhello https://h.example/\r\n"
    head = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
    return head + part * count + b"--x--\r\n"


HOSTILE = {
    "huge": b"From: a@b.example\r\n\r\n" + b"x" * (MAX_MESSAGE_BYTES + 1024),
    "deep": _deep(5000),
    "many-parts": _many_parts(20_000),
    "many-headers": b"".join(b"X-H%d: v\r\n" % i for i in range(100_000)) + b"\r\nbody",
    "encoded-words": b"Subject: " + b"=?utf-8?q?a?= " * 100_000 + b"\r\n\r\nbody",
    "recipients": b"To: " + b", ".join(b"u%d@x.example" % i for i in range(50_000)) + b"\r\n\r\n",
    "long-content-type": b"Content-Type: text/plain; " + b"a=b; " * 200_000 + b"\r\n\r\nhi",
}
BROKEN = {
    "unknown-charset": b"Content-Type: text/plain; charset=x-nowhere\r\n\r\nurgent \xff\xfe",
    "bad-base64": b"Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!=*",
    "bad-qp": b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=",
    "bad-header-bytes": b"From: \xff\xfe <a@\xc3\x28.example>\r\nSubject: \x80\x81\r\n\r\nhi",
    "bad-encoded-word": b"Subject: =?x-nowhere?b?////?= =?utf-8?q?=FF?=\r\n\r\n",
    "nul": b"From: a@b.example\x00\r\nSubject: \x00\r\n\r\n\x00\x00",
    "no-headers": b"\r\n\r\njust a body",
    "empty": b"",
    "only-garbage": bytes(range(256)) * 10,
    "bare-cr": b"From: a@b.example\rSubject: x\r\rbody",
    "bad-boundary": b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
    "html-bomb": b"Content-Type: text/html\r\n\r\n" + b"<a href=" * 50_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_messages_are_bounded(name: str) -> None:
    raw = HOSTILE[name]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        verdict = GUARD.check(raw)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 5, f"{name}: {elapsed:.2f} s"
    assert peak < 15 * len(raw) + 20_000_000, f"{name}: {peak:,} bytes"
    assert "unreadable" in {s.kind for s in verdict.signals}
    orjson.dumps(verdict.to_json())


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_encodings_do_not_crash(name: str) -> None:
    started = time.perf_counter()
    verdict = GUARD.check(BROKEN[name])
    assert time.perf_counter() - started < 2
    orjson.dumps(verdict.to_json())


def test_header_injection_stays_one_line() -> None:
    # An encoded word that decodes to a line break and a new header.
    raw = b"From: a@b.example\r\nSubject: =?utf-8?q?hello=0D=0ABcc:_victim@x.example?=\r\n\r\nbody"
    message = parse_message(raw)
    assert message.subject == "hello Bcc: victim@x.example"
    assert all("\n" not in v and "\r" not in v for _, v in message.headers)
    assert not any(name.lower() == "bcc" for name, _ in message.headers)


def test_the_deepest_structure_read_whole() -> None:
    raw = _deep(30)
    assert parse_message(raw).limits == ()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(raw: bytes) -> None:
    orjson.dumps(GUARD.check(raw).to_json())


HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Reply-To",
        "Return-Path",
        "Subject",
        "Content-Type",
        "Message-ID",
        "Authentication-Results",
        "DKIM-Signature",
        "Content-Transfer-Encoding",
        "Cc",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(HEADER_NAMES, st.text(max_size=200)), max_size=12), st.text())
def test_arbitrary_headers(headers: list[tuple[str, str]], body: str) -> None:
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n" + body
    orjson.dumps(GUARD.check(raw.encode("utf-8", "surrogatepass")).to_json())
