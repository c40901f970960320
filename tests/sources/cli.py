"""Driving ``vigile`` in-process for the sources' end-to-end tests: the command, a JSON
lines file, the store's table counts, a directory import. The store is the test's own
(``tests/sources/conftest.py`` points ``VIGILE_DB`` at it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vigile.cli.app import main

__all__ = ["import_directory_file", "jsonl", "run", "table_counts"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``vigile ARGS``: its exit code, standard output and standard error."""
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(path: Path, objects: list[Any]) -> Path:
    """``objects`` written one a line at ``path``."""
    path.write_text("".join(json.dumps(obj) + "\n" for obj in objects))
    return path


def table_counts(capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    """Rows per table of the store (``vigile stats``)."""
    code, out, _ = run(capsys, "stats", "--format", "json")
    assert code == 0
    counts: dict[str, int] = json.loads(out)["tables"]
    return counts


def import_directory_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str
) -> dict[str, Any]:
    """``vigile directory import`` of a CSV holding ``text``; its JSON summary."""
    directory = tmp_path / "directory.csv"
    directory.write_text(text)
    code, out, _ = run(capsys, "directory", "import", str(directory), "--format", "json")
    assert code == 0, out
    summary: dict[str, Any] = json.loads(out)
    return summary
