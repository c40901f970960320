"""A message read for checking: its addresses, its text and its links, within bounds.

Parsed with the standard library's ``email`` package in its modern policy
(``policy.default``). Whatever arrives is hostile until shown otherwise, so every step has
a bound, and what lies beyond a bound is left unread and said so (``limits``), never an
exception:

- the message as a whole: :data:`MAX_MESSAGE_BYTES` (a caller refuses larger ones);
- headers: the top-level header block is cut at :data:`MAX_HEADER_BLOCK` bytes, and each
  header's value at :data:`MAX_HEADER_CHARS` before the policy parses it (the modern
  policy's header parser takes memory far beyond the header's size on a line of a
  hundred thousand encoded words);
- MIME structure: more than :data:`MAX_MULTIPARTS` multipart content types, or more than
  :data:`MAX_DELIMITERS` lines that could be boundaries (``--``), and only the headers are
  parsed (the standard parser recurses once per level, and parses each part's headers:
  half a millisecond a part, so 20,000 parts would take seconds);
- parts walked: :data:`MAX_PARTS`; text kept: :data:`MAX_TEXT_CHARS` in all;
- links: :data:`MAX_LINKS`; headers of one name read: :data:`MAX_HEADERS`.

A header the policy cannot parse (a broken address list, an undecodable encoded word)
is read as its raw text; an unknown charset or broken transfer encoding is decoded as
UTF-8 with replacement characters. Header injection needs no special case: a header's
value is what the parser made of it, and line breaks never reach the output unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from vigile.phishing.wording import fold

__all__ = [
    "MAX_LINKS",
    "MAX_MESSAGE_BYTES",
    "MAX_MULTIPARTS",
    "MAX_PARTS",
    "MAX_TEXT_CHARS",
    "Mailbox",
    "ParsedMessage",
    "parse_message",
]

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_MULTIPARTS = 64
MAX_PARTS = 200
MAX_TEXT_CHARS = 200_000
MAX_LINKS = 200
MAX_HEADERS = 50
MAX_HEADER_CHARS = 8192
MAX_HEADER_BLOCK = 64 * 1024
MAX_DELIMITERS = 500


class _BoundedPolicy(EmailPolicy):
    """The modern policy, with each header value cut before it is parsed."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if len(value) > MAX_HEADER_CHARS:
            value = value[:MAX_HEADER_CHARS]
        return super().header_fetch_parse(name, value)


_POLICY = _BoundedPolicy()

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'()\[\]{}]{1,2000}")
_HREF = re.compile(r"""(?i)\bhref\s*=\s*(?:"([^"]{0,2000})"|'([^']{0,2000})'|([^\s>]{1,2000}))""")
_TAG = re.compile(r"<[^>]{0,10000}>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, kw_only=True, slots=True)
class Mailbox:
    """An address of a header: display name and address (lower-cased domain)."""

    name: str
    address: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedMessage:
    """What the checks read of a message."""

    raw: bytes
    message_id: str
    subject: str
    sender: tuple[Mailbox, ...]  # From
    reply_to: tuple[Mailbox, ...]
    return_path: str  # the envelope sender the receiving server recorded
    recipients: tuple[Mailbox, ...]  # To, Cc, Delivered-To, X-Original-To
    authentication_results: tuple[str, ...]  # each header's raw text, topmost first
    headers: tuple[tuple[str, str], ...]  # every header (name, value), for the rest
    text: str  # plain text of every text part, tags stripped, whitespace folded
    folded: str  # subject and text folded for comparison (wording.fold)
    links: tuple[str, ...]  # the hosts of the links, in order, once each
    limits: tuple[str, ...]  # what was left unread, in words

    def header(self, name: str) -> str:
        """The first ``name`` header's value, or ``""``."""
        lowered = name.lower()
        return next((v for n, v in self.headers if n.lower() == lowered), "")


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` (an RFC 5322 message) within the module's bounds; never raises for
    a malformed message."""
    limits: list[str] = []
    if len(raw) > MAX_MESSAGE_BYTES:
        raw = raw[:MAX_MESSAGE_BYTES]
        limits.append(f"only the first {MAX_MESSAGE_BYTES:,} bytes were read")
    readable = _bounded_headers(raw, limits)
    if readable.lower().count(b"multipart/") > MAX_MULTIPARTS:
        message: Message = BytesHeaderParser(policy=_POLICY).parsebytes(readable)
        limits.append(f"more than {MAX_MULTIPARTS} MIME multiparts: only the headers were read")
    elif readable.count(b"\n--") > MAX_DELIMITERS:
        message = BytesHeaderParser(policy=_POLICY).parsebytes(readable)
        limits.append(f"more than {MAX_DELIMITERS} MIME boundaries: only the headers were read")
    else:
        message = BytesParser(policy=_POLICY).parsebytes(readable)
    raw_headers = [(name, _clean(str(value))) for name, value in _items(message)]
    decoded = [
        (name, _header_text(message, name, value) if _needs_decoding(name, text) else text)
        for (name, value), (_, text) in zip(_items(message), raw_headers, strict=True)
    ]
    headers = tuple(decoded)
    text, links = _body(message, limits)
    subject = _first(headers, "subject")
    return ParsedMessage(
        raw=raw,
        message_id=_first(headers, "message-id"),
        subject=subject,
        sender=_mailboxes(headers, "from"),
        reply_to=_mailboxes(headers, "reply-to"),
        return_path=_first(headers, "return-path").strip().strip("<>").strip(),
        recipients=_mailboxes(headers, "to", "cc", "delivered-to", "x-original-to"),
        authentication_results=tuple(
            v for n, v in headers if n.lower() == "authentication-results"
        )[:MAX_HEADERS],
        headers=headers,
        text=text,
        folded=fold(subject + " " + text),
        links=links,
        limits=tuple(limits),
    )


def _bounded_headers(raw: bytes, limits: list[str]) -> bytes:
    """``raw`` with its top-level header block cut at :data:`MAX_HEADER_BLOCK` bytes."""
    ends = [
        i
        for i in (
            raw.find(b"\r\n\r\n", 0, 2 * MAX_HEADER_BLOCK),
            raw.find(b"\n\n", 0, 2 * MAX_HEADER_BLOCK),
        )
        if i >= 0
    ]
    end = min(ends) if ends else len(raw)
    if end <= MAX_HEADER_BLOCK:
        return raw
    cut = raw.rfind(b"\n", 0, MAX_HEADER_BLOCK) + 1
    limits.append(f"only the first {MAX_HEADER_BLOCK:,} bytes of headers were read")
    return raw[:cut] + b"\r\n" + raw[end:].lstrip(b"\r\n")


def _items(message: Message) -> Iterator[tuple[str, object]]:
    for index, (name, value) in enumerate(message.raw_items()):
        if index >= 10 * MAX_HEADERS:
            return
        yield name, value


# The headers the checks read decoded (encoded words, address lists); the others are kept
# as sent: decoding every header through the header registry would cost more than all
# the checks together.
_DECODED = frozenset(
    {
        "from",
        "to",
        "cc",
        "reply-to",
        "return-path",
        "subject",
        "message-id",
        "delivered-to",
        "x-original-to",
    }
)


def _needs_decoding(name: str, text: str) -> bool:
    """A header the checks read that holds encoded words or raw 8-bit text; plain ASCII
    without ``=?`` decodes to itself, and skipping the header registry for it halves
    the cost of a message."""
    return name.lower() in _DECODED and ("=?" in text or not text.isascii())


def _header_text(message: Message, name: str, raw: object) -> str:
    """The header decoded by the policy (encoded words and all), or its raw text when
    the policy cannot make sense of it; line breaks folded to spaces either way."""
    try:
        value = str(message.policy.header_fetch_parse(name, raw))  # type: ignore[arg-type]
    except Exception:  # the policy raises many kinds on hostile headers
        value = str(raw)
    return _clean(value)


def _clean(value: str) -> str:
    """One line of valid text: undecodable bytes (kept by the parser as surrogates)
    replaced, whitespace and line breaks folded to single spaces."""
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _SPACE.sub(" ", text).strip()


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((v for n, v in headers if n.lower() == name), "")


def _mailboxes(headers: tuple[tuple[str, str], ...], *names: str) -> tuple[Mailbox, ...]:
    values = [v for n, v in headers if n.lower() in names][:MAX_HEADERS]
    found: list[Mailbox] = []
    for name, address in getaddresses(values):
        if "@" in address:
            found.append(Mailbox(name=name.strip(), address=address.strip().lower()))
    return tuple(dict.fromkeys(found))


def _body(message: Message, limits: list[str]) -> tuple[str, tuple[str, ...]]:
    texts: list[str] = []
    size = 0
    links: list[str] = []
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS:
            limits.append(f"only the first {MAX_PARTS} MIME parts were read")
            break
        if part.is_multipart():
            continue
        kind, charset = _type_and_charset(part)
        if kind not in ("text/plain", "text/html"):
            continue
        content = _content(part, charset)[: MAX_TEXT_CHARS - size]
        if kind == "text/html":
            links += _hrefs(content)
            content = unescape(_TAG.sub(" ", content))
        links += _URL.findall(content)
        texts.append(content)
        size += len(content)
        if size >= MAX_TEXT_CHARS:
            limits.append(f"only the first {MAX_TEXT_CHARS:,} characters of text were read")
            break
    hosts = [h for h in (_host(link) for link in links[: MAX_LINKS * 4]) if h]
    return _SPACE.sub(" ", " ".join(texts)).strip(), tuple(dict.fromkeys(hosts))[:MAX_LINKS]


def _type_and_charset(part: Message) -> tuple[str, str | None]:
    """The part's content type (``text/plain`` when missing or invalid, as RFC 2045
    says) and charset, from one parse of its Content-Type header."""
    try:
        header = part.get("content-type")
    except Exception:  # the policy raises many kinds on hostile headers
        return "text/plain", None
    if header is None:
        return part.get_default_type(), None
    kind = str(getattr(header, "content_type", "text/plain")).lower()
    if kind.count("/") != 1:
        kind = "text/plain"
    charset = getattr(header, "params", {}).get("charset")
    return kind, str(charset) if charset else None


def _content(part: Message, charset: str | None) -> str:
    """The part's text: its payload decoded from its transfer encoding, then from its
    charset; an unknown charset or undecodable bytes give replacement characters.
    (``get_content`` would do the same, parsing the Content-Type header three times
    more.)"""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(charset or "utf-8", "replace")
    except (LookupError, ValueError):  # unknown charset, or not a text codec
        return payload.decode("utf-8", "replace")


def _hrefs(html: str) -> list[str]:
    return [unescape(next(g for g in m if g) if any(m) else "") for m in _HREF.findall(html)]


def _host(link: str) -> str | None:
    candidate = link if "://" in link else "http://" + link
    try:
        host = urlsplit(candidate.strip()).hostname
    except ValueError:
        return None
    return host if host and "." in host else None
