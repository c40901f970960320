"""Vigile's MCP server: the support tools an AI agent calls, each one request of the
access broker's (justified, masked, recorded in the store and the ledger, watched).

:mod:`vigile.mcp.tools` is the catalogue; :mod:`vigile.mcp.server` serves it over stdio
or streamable HTTP, with the agent's own bearer token on every call.
"""

from vigile.mcp.integrity import ToolCheck, ToolPins, tool_digest
from vigile.mcp.server import TOOL_NOT_APPROVED, UNAUTHENTICATED, AgentTokens, SupportServer
from vigile.mcp.tools import MAX_ARGUMENT_BYTES, TOOLS, SupportTool

__all__ = [
    "MAX_ARGUMENT_BYTES",
    "TOOLS",
    "TOOL_NOT_APPROVED",
    "UNAUTHENTICATED",
    "AgentTokens",
    "SupportServer",
    "SupportTool",
    "ToolCheck",
    "ToolPins",
    "tool_digest",
]
