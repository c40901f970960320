from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _store_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's store is the test's own; Rich's tables as wide as the tests read them."""
    monkeypatch.setenv("VIGILE_DB", str(tmp_path / "cli.db"))
    monkeypatch.setenv("COLUMNS", "200")
