"""Policy files split into single policies, each with its line and annotations.

Cedar parses a whole file at once and its messages carry no line; splitting a file into
its policies first lets every error name the file and the line where the policy starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PolicyText", "read_folder", "split_policies"]

_ANNOTATION = re.compile(r'@(\w+)\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)')


@dataclass(frozen=True, kw_only=True, slots=True)
class PolicyText:
    """One policy statement of a file: its text, where it starts, its annotations."""

    source: str
    line: int
    text: str
    annotations: dict[str, str]

    @property
    def name(self) -> str:
        """The policy's readable name: its ``@id``, else ``FILE:LINE``."""
        return self.annotations.get("id") or f"{self.source}:{self.line}"


def split_policies(source: str, text: str) -> list[PolicyText]:
    """The policies of ``text`` (comments and strings respected), in order."""
    found: list[PolicyText] = []
    for start, end in _statement_spans(text):
        body = text[start:end]
        line = text.count("\n", 0, start + _leading_blank(body)) + 1
        found.append(
            PolicyText(
                source=source,
                line=line,
                text=body,
                annotations=dict(_ANNOTATION.findall(_without_comments(body))),
            )
        )
    return found


def read_folder(folder: Path) -> list[tuple[str, str]]:
    """``(file, text)`` of every ``*.cedar`` file of ``folder``, by name."""
    return [
        (str(path), path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.cedar"))
    ]


def _statement_spans(text: str) -> list[tuple[int, int]]:
    """Start and end (after ``;``) of every statement; a trailing part without ``;``
    counts as one too, so the parser reports it."""
    spans: list[tuple[int, int]] = []
    start, index, size = 0, 0, len(text)
    while index < size:
        char = text[index]
        if char == "/" and text.startswith("//", index):
            newline = text.find("\n", index)
            index = size if newline < 0 else newline
            continue
        if char == '"':
            index = _string_end(text, index)
            continue
        if char == ";":
            spans.append((start, index + 1))
            start = index + 1
        index += 1
    if _without_comments(text[start:]).strip():
        spans.append((start, size))
    return spans


def _string_end(text: str, index: int) -> int:
    index += 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index + 1
        index += 1
    return index


def _without_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def _leading_blank(body: str) -> int:
    """Characters before the statement's first token (blank space and comments)."""
    match = re.match(r"(?:\s|//[^\n]*)*", body)
    return match.end() if match else 0
