"""Policy loading (custom folders validated at start-up, located errors) and decisions
(readable policy names, reasons, fail closed)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import cedarpy
import pytest

from vigile.model import Agent, Customer, Ticket
from vigile.policy import InvalidPolicy, PolicyEngine, PolicyError, RequestFacts, entity_of
from vigile.policy import justification as context_of
from vigile.policy.source import split_policies

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TICKET = Ticket(id="T-1", customer="c-1", category=None, opened_at=NOW, assignee="a-1")


def _engine(folder: Path | None = None) -> PolicyEngine:
    engine = PolicyEngine.load(folder)
    engine.entities.ensure(
        [entity_of(Agent(id="a-1", tier=2, team="emea")), entity_of(Customer(id="c-1", tier="smb"))]
    )
    return engine


def _view(engine: PolicyEngine, **facts: object) -> tuple[bool, tuple[str, ...], str]:
    values: dict[str, object] = {
        "now": NOW,
        "customer": "c-1",
        "reason": "customer_initiated_support",
    }
    values.update(facts)
    decision = engine.decide(
        principal=("Agent", "a-1"),
        action="customer.view",
        resource=("Customer", "c-1"),
        context=context_of(RequestFacts(**values)),  # type: ignore[arg-type]
    )
    return decision.allowed, decision.policies, decision.reason


def test_decisions_name_policies_by_their_id_and_give_the_reason() -> None:
    assert _view(_engine(), ticket=TICKET) == (
        True,
        ("masked-view-with-assigned-ticket",),
        "an open ticket of this customer is assigned to you",
    )


def test_forbid_overrides_permit_and_names_the_forbidding_policy() -> None:
    allowed, policies, reason = _view(_engine(), ticket=TICKET, suspended=True)
    assert (allowed, policies) == (False, ("suspended-agent",))
    assert "suspended" in reason


def test_no_permit_denies_with_a_reason() -> None:
    allowed, policies, reason = _view(_engine())
    assert (allowed, policies) == (False, ())
    assert "ticket" in reason


def test_break_glass_permits_and_says_so() -> None:
    allowed, policies, _ = _view(_engine(), reason="break_glass")
    assert (allowed, policies) == (True, ("break-glass",))


def test_a_custom_folder_adds_policies(tmp_path: Path) -> None:
    (tmp_path / "night.cedar").write_text(
        '@id("no-smb-views")\n@reason("smb views are paused")\n'
        "forbid (principal, action, resource) when { context has customer && "
        'context.customer has tier && context.customer.tier == "smb" };\n'
    )
    assert _view(_engine(tmp_path), ticket=TICKET) == (
        False,
        ("no-smb-views",),
        "smb views are paused",
    )


def test_an_unnamed_custom_policy_is_named_by_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "x.cedar").write_text("// header\n\nforbid (principal, action, resource);\n")
    _, policies, _ = _view(_engine(tmp_path), ticket=TICKET)
    assert policies == (f"{tmp_path / 'x.cedar'}:3",)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "permit (principal, action, resource);\n\nforbid (principal, action resource);\n",
            3,
            "parse",
        ),
        (
            "permit (principal, action, resource);\n"
            '// "a comment with a ; in it"\n'
            "permit (principal, action, resource)\n  when { principal.salary > 3 };\n",
            3,
            "salary",
        ),
        ('@id("search-directory")\nforbid (principal, action, resource);\n', 1, "already used"),
        ("permit (principal, action, resource) when { true }", 1, "parse"),
    ],
    ids=["syntax", "schema", "duplicate-id", "missing-semicolon"],
)
def test_an_invalid_custom_policy_refuses_start_with_file_line_and_message(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.cedar"
    path.write_text(text)
    with pytest.raises(InvalidPolicy) as caught:
        PolicyEngine.load(tmp_path)
    assert (caught.value.source, caught.value.line) == (str(path), line)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_a_missing_policy_folder_refuses_start(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such policy folder"):
        PolicyEngine.load(tmp_path / "nowhere")


def test_an_evaluation_error_denies_even_when_a_permit_matches(tmp_path: Path) -> None:
    # Valid against the schema, but overflows at run time.
    (tmp_path / "overflow.cedar").write_text(
        '@id("overflowing")\npermit (principal, action, resource) '
        "when { context.now * 9223372036854775807 > 0 };\n"
    )
    allowed, policies, reason = _view(_engine(tmp_path), ticket=TICKET)
    assert not allowed
    assert reason.startswith("policy evaluation failed")
    assert "policy" not in "".join(p for p in policies if p.startswith("policy"))


def test_an_unknown_principal_is_denied() -> None:
    engine = _engine()
    decision = engine.decide(
        principal=("Agent", "nobody"),
        action="customer.view",
        resource=("Customer", "c-1"),
        context=context_of(RequestFacts(now=NOW, customer="c-1", ticket=TICKET)),
    )
    assert not decision.allowed


def test_entities_are_added_incrementally_and_rebuilt_only_on_change() -> None:
    engine = _engine()
    before = engine.entities.rebuilds
    engine.entities.ensure([entity_of(Customer(id="c-2", tier="smb"))])
    engine.entities.ensure([entity_of(Customer(id="c-2", tier="smb"))])
    assert engine.entities.rebuilds == before
    engine.entities.ensure([entity_of(Agent(id="a-1", tier=1, team="emea"))])
    assert engine.entities.rebuilds == before + 1


def _government_contacts(engine: PolicyEngine, entities: cedarpy.Entities | None) -> bool:
    ticket = Ticket(id="T-9", customer="c-gov", category=None, opened_at=NOW, assignee="a-1")
    facts = RequestFacts(now=NOW, customer="c-gov", reason="customer_initiated_support")
    return engine.decide(
        principal=("Agent", "a-1"),
        action="contact.view",
        resource=("Customer", "c-gov"),
        context=context_of(replace(facts, ticket=ticket)),
        entities=entities,
    ).allowed


TIER_2, TIER_1 = (entity_of(Agent(id="a-1", tier=tier, team="emea")) for tier in (2, 1))
GOVERNMENT = entity_of(Customer(id="c-gov", tier="government"))


def test_ensure_returns_the_handle_that_holds_the_entities_given() -> None:
    engine = _engine()
    demoted = engine.entities.ensure([TIER_1, GOVERNMENT])
    # Another request, which read the agent before the demotion, rebuilds with tier 2.
    stale = engine.entities.ensure([TIER_2, GOVERNMENT])
    assert engine.entities.handle is stale
    assert _government_contacts(engine, stale)
    assert not _government_contacts(engine, demoted)
    assert engine.entities.ensure([TIER_1, GOVERNMENT]) is not stale


def test_a_request_during_a_rebuild_gets_the_new_handle(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine()
    engine.entities.ensure([TIER_2, GOVERNMENT])
    parsing, release = threading.Event(), threading.Event()
    parse = engine.entities._parse

    def slow_parse(entities: list[dict[str, object]]) -> cedarpy.Entities:
        parsing.set()
        assert release.wait(10)
        return parse(entities)

    monkeypatch.setattr(engine.entities, "_parse", slow_parse)
    allowed: list[bool] = []

    def demote() -> None:
        allowed.append(_government_contacts(engine, engine.entities.ensure([TIER_1, GOVERNMENT])))

    rebuilding = threading.Thread(target=demote)
    rebuilding.start()
    assert parsing.wait(10)
    during = threading.Thread(target=demote)
    during.start()
    during.join(0.2)  # it waits for the rebuild (before the fix it had the old handle)
    release.set()
    rebuilding.join(10)
    during.join(10)
    assert allowed == [False, False]
    assert not _government_contacts(engine, None)  # the latest handle
    assert engine.entities.rebuilds == 1


def test_statements_split_with_comments_and_strings() -> None:
    text = (
        '// a; b\n@id("x;y")\npermit (principal, action, resource);\n'
        "\n  forbid (principal, action, resource);"
    )
    policies = split_policies("f.cedar", text)
    assert [(p.line, p.name) for p in policies] == [(2, "x;y"), (5, "f.cedar:5")]
