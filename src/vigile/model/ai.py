"""AI agents in the directory: an agent whose record carries an ``ai`` object.

An AI agent is an agent like any other (its id, its team: the team that owns it) whose
directory record says what it is: ``{"ai": {"model": "...", "supervisor": "AGENT_ID"}}``
in the record's extra fields (the activity log keeps unlisted fields as extra data). The
supervisor is the human who answers for it and approves what the policies reserve to
them; the human or queue a conversation acts for travels with each tool call.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigile.model.records import Agent

__all__ = ["AiProfile", "ai_profile"]


@dataclass(frozen=True, kw_only=True, slots=True)
class AiProfile:
    """What the directory says of an AI agent."""

    model: str | None
    supervisor: str | None


def ai_profile(agent: Agent) -> AiProfile | None:
    """The AI profile of ``agent``, or ``None`` for a person."""
    found = agent.extra.get("ai")
    if not isinstance(found, dict):
        return None
    model, supervisor = found.get("model"), found.get("supervisor")
    return AiProfile(
        model=model if isinstance(model, str) and model else None,
        supervisor=supervisor if isinstance(supervisor, str) and supervisor else None,
    )
