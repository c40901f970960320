"""``vigile mcp``: the support tools (:mod:`vigile.mcp.tools`) as an MCP server, on the
official SDK's low-level server, over stdio or streamable HTTP.

Every call authenticates the agent with its own bearer token (as the MCP authorization
spec has it: on HTTP the SDK's bearer middleware checks it through :class:`AgentTokens`
before the request reaches the server, and the call checks it again, so a session
revoked mid-conversation stops the next call; on stdio the token given at start). Then
the call is one request of the broker's (:mod:`vigile.broker.service`): the same
decision, masking, access event and ledger entry as over the HTTP API, the access
carrying the tool and the conversation under ``extra.via``.

Refusals:

- no valid token: the HTTP request is answered 401 (``WWW-Authenticate``); on stdio an
  MCP error (``UNAUTHENTICATED``) and no tool runs;
- a tool whose definition is not the one a human approved (:mod:`vigile.mcp.integrity`):
  not listed; a call is an MCP error (``TOOL_NOT_APPROVED``), recorded as a denied
  access, the change as an ``mcp.tool.changed`` audit event;
- an unknown tool, arguments too large or that do not validate, a token of another agent
  than the one this server serves: an MCP error (``INVALID_PARAMS``, or
  ``UNAUTHENTICATED`` for the token), recorded first: as a denied access of the tool's
  action, or an ``mcp.call.refused`` audit event for a call that names no data;
- what the broker refuses (a policy's denial, an unknown customer or object, a bad
  grant request): a tool result with ``isError`` (the model reads why, as the MCP spec
  wants for tool errors), recorded by the broker as a denied access.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import mcp_types as types
import orjson
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from vigile import __version__
from vigile.broker import Broker, Principal, Unauthenticated
from vigile.errors import VigileError, answer_for
from vigile.mcp.integrity import ToolPins
from vigile.mcp.tools import MAX_ARGUMENT_BYTES, TOOLS, ApprovalRequired, SupportTool
from vigile.model import AuditEvent

__all__ = ["TOOL_NOT_APPROVED", "UNAUTHENTICATED", "AgentTokens", "SupportServer"]

#: The JSON-RPC error code of a call without a valid credential (application range).
UNAUTHENTICATED = -32010
#: The code of a call of a tool whose definition is not the one a human approved.
TOOL_NOT_APPROVED = -32011
_STDIO_IP = "127.0.0.1"  # a stdio server runs on the agent runtime's own host
#: The client of the HTTP request being authenticated (the SDK's token verifier is not
#: given the request): set by :class:`_ClientAddress` around the SDK's middleware.
_client: contextvars.ContextVar[tuple[str, str | None]] = contextvars.ContextVar(
    "vigile_mcp_client",
    default=("0.0.0.0", None),  # noqa: S104 - a label
)


class AgentTokens:
    """The SDK's token verifier over the broker's authenticator: a token is valid when the
    broker would take it (signature, expiry, session not revoked, agent not suspended
    since, second factor as required); a new session is recorded as a sign-in."""

    def __init__(self, broker: Broker, *, resource: str | None = None) -> None:
        self.broker = broker
        self.resource = resource

    async def verify_token(self, token: str) -> AccessToken | None:
        ip, user_agent = _client.get()
        try:
            who = self.broker.auth.known(token, ip=ip)
            if who is None:
                who = await anyio.to_thread.run_sync(
                    lambda: self.broker.authenticate(token, ip=ip, user_agent=user_agent)
                )
        except Unauthenticated:
            return None
        return AccessToken(
            token=token,
            client_id=who.agent,
            subject=who.agent,
            scopes=sorted(who.roles),
            resource=self.resource,
        )


class _ClientAddress:
    """ASGI wrapper keeping the client's address and user agent for :class:`AgentTokens`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        headers = dict(scope.get("headers") or [])
        agent = headers.get(b"user-agent")
        marker = _client.set(
            (
                client[0] if client else "0.0.0.0",  # noqa: S104 - a label
                agent.decode("latin-1") if agent else None,
            )
        )
        try:
            await self.app(scope, receive, send)
        finally:
            _client.reset(marker)


@dataclasses.dataclass(frozen=True, slots=True)
class _Caller:
    """Who a call comes from: the token, and where from."""

    token: str | None
    ip: str
    user_agent: str | None


class SupportServer:
    """Vigile's MCP server over one broker.

    ``agent``, when given, is the only agent this server serves: a token of another is
    refused (and recorded). ``token`` is the credential of a stdio server."""

    def __init__(
        self,
        broker: Broker,
        *,
        agent: str | None = None,
        token: str | None = None,
        tools: Mapping[str, SupportTool] = TOOLS,
    ):
        self.broker = broker
        self.agent = agent
        self.token = token
        self.tools = dict(tools)
        self.pins = ToolPins(broker)
        self.checks = self.pins.check(self.tools.values())
        self._reported: set[tuple[str, str]] = set()  # changes recorded by this server
        self.server: Server[Any] = Server(
            "vigile",
            version=__version__,
            title="Vigile support tools",
            instructions=(
                "Support tools over customer data. Every call is authorised, masked and "
                "recorded; give the conversation's ticket and id with each call."
            ),
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    # -- transports --------------------------------------------------------------------

    async def serve_stdio(self) -> None:
        """Serve one client over this process's stdin and stdout until it closes."""
        async with stdio_server() as (read, write):
            options = self.server.create_initialization_options()
            await self.server.run(read, write, options)

    def http_app(self, *, url: str, issuer: str | None = None) -> ASGIApp:
        """The streamable HTTP app (``/mcp``), bearer tokens required. ``url`` is where
        clients reach it (the OAuth protected resource); ``issuer`` the authorization
        server clients are sent to (the OIDC issuer; ``url`` itself for local tokens)."""
        settings = AuthSettings(
            issuer_url=issuer or url,  # type: ignore[arg-type]  # pydantic parses it
            resource_server_url=url,  # type: ignore[arg-type]
            validate_token_resource=False,  # the broker's authenticator checks the audience
        )
        host = url.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        app = self.server.streamable_http_app(
            auth=settings,
            token_verifier=AgentTokens(self.broker, resource=url),
            host=host,
            json_response=True,
        )
        return _ClientAddress(app)

    # -- handlers ----------------------------------------------------------------------

    async def _list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        """The approved tools only: a changed one is not offered to the model."""
        self.checks = await anyio.to_thread.run_sync(self.pins.check, self.tools.values())
        approved = [tool for tool in self.tools.values() if self.checks[tool.name].approved]
        return types.ListToolsResult(tools=[_listed(tool) for tool in approved])

    async def _call_tool(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        caller = self._caller(getattr(ctx, "request", None))
        who = await self._principal(caller)
        arguments: Mapping[str, Any] = params.arguments or {}
        tool = self.tools.get(params.name)
        if tool is None:
            await self._refused(who, None, arguments, f"unknown tool {params.name[:100]!r}")
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name[:100]!r}")
        if not self.checks[tool.name].approved:
            why = await self._unapproved(tool)
            if why is not None:
                await self._refused(who, tool, arguments, why)
                raise MCPError(TOOL_NOT_APPROVED, why)
        if self.agent is not None and who.agent != self.agent:
            why = f"this server serves agent {self.agent}; the token is {who.agent}'s"
            await self._refused(who, tool, arguments, why)
            raise MCPError(UNAUTHENTICATED, why)
        if len(orjson.dumps(dict(arguments))) > MAX_ARGUMENT_BYTES:
            why = f"arguments larger than {MAX_ARGUMENT_BYTES} bytes"
            await self._refused(who, tool, arguments, why)
            raise MCPError(types.INVALID_PARAMS, why)
        try:
            ask = tool.arguments.model_validate(dict(arguments))
        except ValidationError as exc:
            why = f"invalid arguments: {_problems(exc)}"
            await self._refused(who, tool, arguments, why)
            raise MCPError(types.INVALID_PARAMS, why) from exc
        via = {"channel": "mcp", "tool": tool.name}
        if ask.conversation:
            via["conversation"] = ask.conversation
        if ask.on_behalf_of:
            via["on_behalf_of"] = ask.on_behalf_of
        acting = dataclasses.replace(who, via=via)
        return await _run(lambda: tool.call(self.broker, acting, ask))

    # -- steps -------------------------------------------------------------------------

    async def _unapproved(self, tool: SupportTool) -> str | None:
        """Why ``tool`` is refused (its pin read again: it may have been approved since),
        its change recorded once by this server; ``None`` if it is approved now."""
        checks = await anyio.to_thread.run_sync(self.pins.check, [tool])
        check = checks[tool.name]
        self.checks[tool.name] = check
        if check.approved:
            return None
        if (tool.name, check.digest) not in self._reported:
            self._reported.add((tool.name, check.digest))
            await anyio.to_thread.run_sync(self.pins.record_change, check)
        return check.refusal()

    def _caller(self, request: object) -> _Caller:
        if isinstance(request, Request):
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            return _Caller(
                token=token if scheme.lower() == "bearer" and token else None,
                ip=request.client.host if request.client else "0.0.0.0",  # noqa: S104
                user_agent=request.headers.get("user-agent"),
            )
        return _Caller(token=self.token, ip=_STDIO_IP, user_agent="vigile-mcp-stdio")

    async def _principal(self, caller: _Caller) -> Principal:
        """The agent of the caller's token, checked now (a revoked session stops here)."""
        try:
            known = self.broker.auth.known(caller.token, ip=caller.ip)
            if known is not None:
                return known
            return await anyio.to_thread.run_sync(
                lambda: self.broker.authenticate(
                    caller.token, ip=caller.ip, user_agent=caller.user_agent
                )
            )
        except Unauthenticated as exc:
            raise MCPError(UNAUTHENTICATED, str(exc)) from exc

    async def _refused(
        self, who: Principal, tool: SupportTool | None, arguments: Mapping[str, Any], why: str
    ) -> None:
        """Record a call refused before it reached the broker: a denied access of the
        tool's action, or (a tool naming no data, or no known tool) an audit event."""
        name = tool.name if tool else "?"
        acting = dataclasses.replace(who, via={"channel": "mcp", "tool": name})
        if tool is not None and tool.action is not None:
            action = tool.action
            await anyio.to_thread.run_sync(
                lambda: self.broker.refuse(
                    acting,
                    action,
                    customer=_text(arguments.get("customer")),
                    ticket=_text(arguments.get("ticket")),
                    reason="none",
                    why=why,
                )
            )
            return
        event = AuditEvent.new(
            "mcp.call.refused",
            actor=who.agent,
            time=self.broker.clock(),
            subject=who.agent,
            details={"tool": name, "why": why[:500], "session": who.session},
        )
        await anyio.to_thread.run_sync(lambda: self.broker.committer.record([event]))


def _listed(tool: SupportTool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema(),
        annotations=types.ToolAnnotations(
            title=tool.title, read_only_hint=tool.read_only, open_world_hint=False
        ),
    )


async def _run(call: Callable[[], object]) -> types.CallToolResult:
    """The tool's answer, or the broker's refusal as a tool error the model can read."""
    try:
        body = await anyio.to_thread.run_sync(call)
    except VigileError as exc:
        answer = answer_for(exc)
        message = answer.message(exc)
        error: dict[str, object] = {
            "status": answer.status,
            "title": answer.title,
            "message": message,
        }
        policies = getattr(exc, "policies", None)
        if policies:
            error["policies"] = list(policies)
        if isinstance(exc, ApprovalRequired):
            error["approval"] = {
                "id": exc.approval.id,
                "status": exc.approval.status.value,
                "supervisor": exc.approval.supervisor,
            }
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=message)],
            structured_content={"error": error},
            is_error=True,
        )
    structured = body if isinstance(body, dict) else {"result": body}
    text = orjson.dumps(structured).decode()
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=structured
    )


def _problems(exc: ValidationError) -> str:
    """Where each argument is wrong (names and messages, never the values given)."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _text(value: object) -> str | None:
    """An argument as an access may record it: text without NUL, else nothing."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else None
