"""Tool integrity: every tool's description is pinned by hash once a human approved it.

A model chooses and uses a tool by what its description says; a description changed
after approval (a "rug pull": the same name, new instructions or arguments) changes what
the agent does without anyone deciding it. So each tool's definition as the client sees
it (name, title, description, input schema, read-only hint) has a SHA-256 digest, and
the digests a human approved are pinned as ``mcp.tool.pinned`` audit events in the store
and the ledger (``vigile mcp --approve-tools``). A tool whose digest is not the one last
pinned (changed, or never approved) is neither listed nor run: each call is refused, and
the change is recorded once per server as an ``mcp.tool.changed`` audit event naming
both digests, until the tool is approved again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from sqlalchemy import select

from vigile.broker import Broker
from vigile.mcp.tools import SupportTool
from vigile.model import AuditEvent
from vigile.store import tables as t
from vigile.store.engine import connect

__all__ = ["PINNED", "ToolCheck", "ToolPins", "tool_digest"]

PINNED = "mcp.tool.pinned"
CHANGED = "mcp.tool.changed"


def tool_digest(tool: SupportTool) -> str:
    """The SHA-256 of the tool as the client is shown it (canonical JSON)."""
    shown = {
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "input_schema": tool.input_schema(),
        "read_only": tool.read_only,
    }
    return hashlib.sha256(orjson.dumps(shown, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCheck:
    """One tool against its pin: ``pinned`` is ``None`` for a tool never approved."""

    tool: str
    digest: str
    pinned: str | None

    @property
    def approved(self) -> bool:
        return self.digest == self.pinned

    def refusal(self) -> str:
        """Why a call of this tool is refused."""
        if self.pinned is None:
            return (
                f"tool {self.tool!r} was never approved: a human approves it with "
                "`vigile mcp --approve-tools`"
            )
        return (
            f"tool {self.tool!r} changed since it was approved (pinned sha256:"
            f"{self.pinned[:16]}..., now sha256:{self.digest[:16]}...): refused until "
            "approved again (`vigile mcp --approve-tools`)"
        )


class ToolPins:
    """The pins in the store, read and written through the broker's one write path."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def pinned(self) -> dict[str, str]:
        """The digest last pinned for each tool."""
        table = t.audit_events
        query = select(table.c.details).where(table.c.action == PINNED).order_by(table.c.seq)
        pins: dict[str, str] = {}
        with connect(self.broker.store.engine) as conn:
            for (details,) in conn.execute(query):
                found = json.loads(details)
                pins[str(found["tool"])] = str(found["digest"])
        return pins

    def check(self, tools: Iterable[SupportTool]) -> dict[str, ToolCheck]:
        pins = self.pinned()
        return {
            tool.name: ToolCheck(
                tool=tool.name, digest=tool_digest(tool), pinned=pins.get(tool.name)
            )
            for tool in tools
        }

    def approve(self, tools: Iterable[SupportTool], *, actor: str) -> list[ToolCheck]:
        """Pin the tools as they are now (those not already pinned so); recorded."""
        checks = [check for check in self.check(tools).values() if not check.approved]
        events = [self._event(PINNED, actor, check) for check in checks]
        if events:
            self.broker.committer.record(events)
        return checks

    def record_change(self, check: ToolCheck) -> None:
        """Record that a tool is refused for its changed (or never approved) definition."""
        self.broker.committer.record([self._event(CHANGED, "vigile.mcp", check)])

    def _event(self, action: str, actor: str, check: ToolCheck) -> AuditEvent:
        return AuditEvent.new(
            action,
            actor=actor,
            time=self.broker.clock(),
            subject=f"mcp-tool:{check.tool}",
            details={"tool": check.tool, "digest": check.digest, "pinned": check.pinned},
        )
