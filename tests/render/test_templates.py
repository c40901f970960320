"""The one Jinja environment factory: a user's folder first, escaping by file name, text
kept as written, undefined variables, the sandbox, the time filters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from jinja2.sandbox import SecurityError

from vigile.render import template_environment

MARKUP = "<b>Ann & Bob</b>"
ESCAPED = "&lt;b&gt;Ann &amp; Bob&lt;/b&gt;"


def _folder(root: Path, **files: str) -> Path:
    root.mkdir()
    for name, text in files.items():
        (root / name.replace("__", ".")).write_text(text)
    return root


def test_the_first_folder_holding_a_name_wins(tmp_path: Path) -> None:
    builtin = _folder(tmp_path / "builtin", a__txt__j2="built-in a", b__txt__j2="built-in b")
    user = _folder(tmp_path / "user", a__txt__j2="user a")
    env = template_environment(user, builtin)
    assert env.get_template("a.txt.j2").render() == "user a"
    assert env.get_template("b.txt.j2").render() == "built-in b"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("page.html.j2", ESCAPED),
        ("page.html", ESCAPED),
        ("feed.xml", ESCAPED),
        ("body.txt.j2", MARKUP),
        ("notes.txt", MARKUP),
        ("labels.j2", MARKUP),  # labels shared by text and HTML: see below
        ("chart.svg", ESCAPED),  # any other name: escaped
    ],
)
def test_escaping_follows_the_file_name(tmp_path: Path, name: str, expected: str) -> None:
    (tmp_path / name).write_text("{{ who }}")
    env = template_environment(tmp_path)
    assert env.get_template(name).render(who=MARKUP) == expected
    assert env.from_string("{{ who }}").render(who=MARKUP) == ESCAPED


def test_labels_shared_by_text_and_html(tmp_path: Path) -> None:
    (tmp_path / "labels.j2").write_text('{% set role = "Billing & accounts" %}')
    (tmp_path / "body.txt.j2").write_text('{% from "labels.j2" import role %}{{ role }}')
    (tmp_path / "body.html.j2").write_text('{% from "labels.j2" import role %}{{ role }}')
    env = template_environment(tmp_path)
    assert env.get_template("body.txt.j2").render() == "Billing & accounts"
    assert env.get_template("body.html.j2").render() == "Billing &amp; accounts"


def test_text_is_kept_as_written_with_its_last_newline(tmp_path: Path) -> None:
    (tmp_path / "body.txt.j2").write_text("{% if true %}\n  yes\n{% endif %}\n")
    assert template_environment(tmp_path).get_template("body.txt.j2").render() == "\n  yes\n\n"
    trimmed = template_environment(tmp_path, trim_blocks=True)
    assert trimmed.get_template("body.txt.j2").render() == "  yes\n"


def test_an_undefined_variable_is_an_error_unless_not_strict(tmp_path: Path) -> None:
    (tmp_path / "page.html.j2").write_text("{% if error %}{{ error }}{% endif %}ok")
    with pytest.raises(UndefinedError):
        template_environment(tmp_path).get_template("page.html.j2").render()
    lenient = template_environment(tmp_path, strict=False)
    assert lenient.get_template("page.html.j2").render() == "ok"


def test_a_sandboxed_template_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "evil.txt.j2").write_text("{{ ''.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        template_environment(tmp_path, sandboxed=True).get_template("evil.txt.j2").render()


def test_the_time_filters() -> None:
    env = template_environment()
    moment = datetime(2021, 5, 20, 9, 3, 11, tzinfo=UTC)
    assert env.from_string("{{ t | time }}").render(t=moment) == "2021-05-20T09:03:11Z"
    assert env.from_string("{{ t | when }}").render(t=moment) == "2021-05-20 09:03:11 UTC"
    assert env.from_string("{{ none | when }}").render() == ""
