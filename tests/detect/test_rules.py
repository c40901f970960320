"""Sigma rules: the shipped pack converts to the expected SQL (golden file, made by this
backend and reviewed by hand), passes its own examples, and a user's folder is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigile.cli.app import app
from vigile.detect.errors import RuleError
from vigile.detect.rules import RULE_PACKS, check_rules, load_rules

GOLDEN = Path(__file__).parent / "golden" / "rule_sql.json"

RULE = """\
title: Account views by a named agent
id: 0b7d3c1e-0000-4000-8000-00000000000{n}
status: experimental
logsource: {{product: vigile, service: activity}}
detection:
  selection:
    user: "a-0'1"
    action|startswith: account.
  condition: selection
level: low
tests:
  match:
    - {{agent: "a-0'1", action: account.view}}
  nomatch:
    - {{agent: a-02, action: account.view}}
{extra}"""


def test_the_shipped_pack_converts_to_the_golden_sql() -> None:
    rules = load_rules(RULE_PACKS.values())
    assert {r.id: r.condition for r in rules} == json.loads(GOLDEN.read_text())


def test_the_shipped_pack_passes_its_examples() -> None:
    checks = check_rules(load_rules(RULE_PACKS.values()))
    assert [c.failures for c in checks if not c.ok] == []
    assert len(checks) >= 5


def test_a_users_rule_maps_sigma_fields_and_quotes_values(tmp_path: Path) -> None:
    (tmp_path / "mine.yml").write_text(RULE.format(n=1, extra=""))
    (rule,) = load_rules([tmp_path])
    assert rule.condition.startswith("agent ILIKE 'a-0''1'")
    assert check_rules([rule])[0].ok


def test_a_wrong_example_fails_the_test_command(tmp_path: Path) -> None:
    wrong = RULE.format(n=2, extra="").replace(
        "nomatch:\n    - {agent: a-02", 'nomatch:\n    - {agent: "a-0\'1"'
    )
    (tmp_path / "wrong.yml").write_text(wrong)
    result = CliRunner().invoke(app, ["rules", "test", str(tmp_path)])
    assert result.exit_code == 1
    assert "should not match" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: x\n", "not a Sigma rule"),
        (RULE.format(n=3, extra="").replace("user:", "nonsense_field:"), "unknown fields"),
        (RULE.format(n=4, extra="").replace("level: low\n", ""), "needs a level"),
    ],
)
def test_bad_rules_are_refused_with_their_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yml").write_text(text)
    with pytest.raises(RuleError, match=message) as caught:
        load_rules([tmp_path])
    assert "bad.yml" in str(caught.value)
