"""Shared CLI plumbing: output formats, consoles, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

__all__ = ["Format", "console", "err", "print_json", "progress_bar"]

console = Console()
err = Console(stderr=True)


class Format(StrEnum):
    """How a command prints its result."""

    TEXT = "text"
    JSON = "json"


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, nothing else on it."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


@contextmanager
def progress_bar(description: str, *, total: float, counts: bool = False) -> Iterator[Any]:
    """A progress bar on stderr; yields ``update(done, total)``."""
    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
    if counts:
        columns.append(MofNCompleteColumn())
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def update(done: float, new_total: float | None = None) -> None:
            bar.update(task, completed=done, total=new_total or total)

        yield update
