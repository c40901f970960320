"""How much and how slowly a request may send before anything reads it.

:class:`BodyLimits` sits outside every other reader of bodies (the NUL filter, the routes'
parsers): a body announced larger than its route's limit is refused (413) before a byte
of it is read; one that grows past the limit while it streams (no ``Content-Length``) is
refused as soon as it does; one that has not arrived in full by the deadline is refused
(408). Each refusal is the one error shape, closes the connection, and happens before
routing and authentication: nothing is recorded and no route runs. What anyone may send
unauthenticated is thereby bounded, per route (:func:`body_limits`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigile.api.errors import error_response
from vigile.settings import Settings

__all__ = ["BodyLimits", "BodyRefused", "RouteLimits", "body_limits"]

#: The routes anyone may post to before being authenticated, which need little.
SIGNIN_PATHS = ("/v1/signin-check", "/console/login", "/console/logout")
TICKETS_PATH = "/v1/integrations/tickets"
MAIL_PATH = "/v1/mail/"


@dataclass(frozen=True, kw_only=True, slots=True)
class RouteLimits:
    """The largest body of each route, by path prefix (the longest that matches), and
    of any other route."""

    default: int
    by_prefix: Mapping[str, int]

    def of(self, path: str) -> int:
        """The limit of ``path``."""
        matches = [prefix for prefix in self.by_prefix if _under(path, prefix)]
        return self.by_prefix[max(matches, key=len)] if matches else self.default


def body_limits(settings: Settings) -> RouteLimits:
    """The limits the settings give: small for sign-in, large for the ticket feed."""
    by_prefix = dict.fromkeys(SIGNIN_PATHS, settings.serve_signin_body_bytes)
    by_prefix[TICKETS_PATH] = settings.serve_tickets_body_bytes
    by_prefix[MAIL_PATH] = settings.serve_mail_body_bytes
    return RouteLimits(default=settings.serve_body_bytes, by_prefix=by_prefix)


class BodyRefused(HTTPException):
    """A body too large (413) or too slow (408). Raised by the ``receive`` that
    :class:`BodyLimits` hands on, so whoever reads the body stops there; an
    ``HTTPException`` so that the routes' parsers let it through unchanged, and answered
    the same whether :class:`BodyLimits` or the app's handlers catch it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, headers={"Connection": "close"})


class BodyLimits:
    """Refuses a request whose body is larger than its route's limit or slower than the
    deadline (seconds from the request's start), counting bytes as they arrive: no more
    than the limit is ever handed on."""

    def __init__(self, app: ASGIApp, *, limits: RouteLimits, seconds: float) -> None:
        self.app = app
        self.limits = limits
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope.get("path", ""))
        announced = _content_length(scope)
        if announced is not None and announced > limit:
            await _answer(scope, receive, send, _too_large(limit))
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        deadline = asyncio.get_running_loop().time() + self.seconds
        try:
            await self.app(scope, _Body(receive, limit, deadline).receive, send_tracked)
        except BodyRefused as refused:
            if started:  # too late to answer: the server closes the connection
                raise
            await _answer(scope, receive, send, refused)


class _Body:
    """A request's ``receive``, counted and timed until its body is complete."""

    def __init__(self, receive: Receive, limit: int, deadline: float) -> None:
        self._receive = receive
        self._limit = limit
        self._deadline = deadline
        self._received = 0
        self._complete = False

    async def receive(self) -> Message:
        if self._complete:  # later calls wait for a disconnect: no deadline
            return await self._receive()
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise BodyRefused(
                408, "the request body did not arrive in time; send it without pauses"
            ) from None
        if message["type"] != "http.request":
            return message
        self._received += len(message.get("body", b""))
        if self._received > self._limit:
            raise _too_large(self._limit)
        self._complete = not message.get("more_body", False)
        return message


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, f"the request body is larger than this route accepts ({limit:,} bytes)")


async def _answer(scope: Scope, receive: Receive, send: Send, refused: BodyRefused) -> None:
    headers = dict(refused.headers or {})
    response = error_response(Request(scope), refused.status_code, refused.detail, headers)
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # the server refuses a malformed one before we see it
                return None
    return None


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")
