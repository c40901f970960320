"""The documentation matches the code: every setting and every command is documented."""

from __future__ import annotations

from dataclasses import Field, fields

import pytest
import typer.main

from tests.conftest import REPO
from vigile.cli.app import app
from vigile.settings import Settings

DOCS = REPO / "docs"


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(name: str) -> None:
    assert f"`VIGILE_{name.upper()}`" in (DOCS / "configuration.md").read_text()


@pytest.mark.parametrize("spec", fields(Settings), ids=lambda spec: spec.name)
def test_every_setting_has_its_documented_default(spec: Field[object]) -> None:
    default = f"`{spec.default}`" if spec.default != "" else "(none)"
    row = f"| `VIGILE_{spec.name.upper()}` | {default} |"
    assert row in (DOCS / "configuration.md").read_text()


def test_every_command_is_in_the_cli_reference() -> None:
    reference = (DOCS / "cli.md").read_text()
    group = typer.main.get_group(app)
    for name in group.commands:
        assert f"## `vigile {name}" in reference, name


def test_readme_opens_with_the_two_quick_start_commands() -> None:
    readme = (REPO / "README.md").read_text()
    commands = [block.split("\n")[1] for block in readme.split("```sh")[1:3]]
    assert commands == [
        "python3 -m pip install -e . && vigile demo",
        "python3 -m pip install -e '.[test]' && make check",
    ]
    ci = (REPO / ".ci" / "run").read_text()
    assert commands[1] in ci
