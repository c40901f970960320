"""One error shape for every error of the HTTP API, and the request id it names.

Every error response, whatever raised it (a domain error, a validation error, an
unknown route, a bug), has the body ``{"error": {"code", "message", "request_id"}}``
and the ``X-Request-ID`` header. A Vigile error is answered as its family says in the
one table, :data:`vigile.errors.ANSWERS` (the console reads the same table); anything
unexpected is a 500 whose message says nothing about the internals (the log has the
traceback).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigile.errors import (
    ANSWERS,
    InternalError,
    InvalidParameters,
    StoreError,
    VigileError,
    answer_for,
)

__all__ = [
    "REQUEST_ID_HEADER",
    "RefuseNul",
    "RequestIdMiddleware",
    "domain_error_response",
    "error_response",
    "install_error_handlers",
    "validation_message",
]

REQUEST_ID_HEADER = "X-Request-ID"
_log = logging.getLogger("vigile.api")
# A caller's own request id is kept only if it cannot smuggle anything into logs.
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: ``\u0000`` in JSON, in either case, found without a lowered copy of the body.
_JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)
#: Anything unexpected is answered as the server's fault, its cause in the log only.
_INTERNAL = ANSWERS[InternalError]

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "content_too_large",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}


class RequestIdMiddleware:
    """Gives every request an id (the caller's ``X-Request-ID`` if safe) and returns it,
    and marks every response ``Cache-Control: no-store`` (they carry customer data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault(REQUEST_ID_HEADER, request_id)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_id)


class RefuseNul:
    """Refuses (422, the one error shape) any request carrying a NUL character in its
    path, query or body (raw; ``%00`` where URL-encoded; ``\\u0000`` in JSON): no name,
    id, ticket or reason has one, PostgreSQL text cannot hold one, and an event that cannot
    be recorded must not be asked for. Bodies are read whole first, so this runs inside
    :class:`~vigile.api.limits.BodyLimits`, which bounds them."""

    def __init__(
        self,
        app: ASGIApp,
        on_refused: Callable[[Scope, str], Awaitable[None]] | None = None,
        bodies_checked_by: tuple[str, ...] = (),
    ) -> None:
        """``on_refused(scope, why)`` runs before the answer (the broker records a refused
        request for data); if it raises, the request fails as any other would. Bodies of
        paths under ``bodies_checked_by`` are left to their route, whose decoder names
        the record and field at fault."""
        self.app = app
        self.on_refused = on_refused
        self.bodies_checked_by = bodies_checked_by

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _nul_in_target(scope)
        messages: list[Message] = []
        if where is None and not scope.get("path", "").startswith(self.bodies_checked_by):
            message = await _whole_body(receive)
            messages.append(message)
            if _body_has_nul(scope, message.get("body", b"")):
                where = "body"
        if where is not None:
            text = f"{where}: a NUL character is not allowed"
            response = error_response(Request(scope), 422, text)
            if self.on_refused is not None:
                try:
                    await self.on_refused(scope, f"invalid request: {text}")
                except StoreError as exc:  # not recorded: not answered either
                    response = domain_error_response(Request(scope), exc)
            await response(scope, receive, send)
            return
        replay = iter(messages)

        async def receive_again() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, receive_again, send)


async def _whole_body(receive: Receive) -> Message:
    """The body as one message: joined once, and then the app's own join of a single
    chunk copies nothing."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return {"type": "http.request", "body": body, "more_body": False}


def _nul_in_target(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "path"
    if _has_nul(scope.get("query_string", b"")):
        return "query"
    return None


def _has_nul(raw: bytes) -> bool:
    """A NUL in URL-encoded text: raw or ``%00``."""
    return b"\x00" in raw or b"%00" in raw


def _body_has_nul(scope: Scope, body: bytes) -> bool:
    """A NUL in a body, as its content type would carry one."""
    kind = next((v for k, v in scope.get("headers", ()) if k == b"content-type"), b"").lower()
    if b"\x00" in body:
        return True
    if kind.startswith(b"application/x-www-form-urlencoded"):
        return _has_nul(body)
    return b"json" in kind and _JSON_NUL.search(body) is not None


def _request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            return given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    return uuid.uuid4().hex


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape, with the request's id in the body and the headers."""
    request_id = str(request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex)
    code = _CODES.get(status, "error")
    body = {"error": {"code": code, "message": message, "request_id": request_id}}
    return JSONResponse(
        body,
        status_code=status,
        headers={**(headers or {}), REQUEST_ID_HEADER: request_id, "Cache-Control": "no-store"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure to :func:`error_response`."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(VigileError, _domain_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers) if exc.headers else None
    return error_response(request, exc.status_code, str(exc.detail), headers)


def validation_message(exc: RequestValidationError) -> str:
    """What failed to validate, field by field (never the values given), worded as the
    console words it (:class:`~vigile.errors.InvalidParameters`)."""
    return str(InvalidParameters(exc.errors()))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(request, 422, validation_message(exc))


def domain_error_response(request: Request, exc: VigileError) -> JSONResponse:
    """The answer to a Vigile error: the status, message and challenge of its family.
    A server's fault is logged, and its cause is not shown."""
    answer = answer_for(exc)
    if answer is _INTERNAL:
        return _internal_error(request, exc)
    if answer.status >= 500:
        _log.error("request %s: %s", _id(request), exc)
    headers = {"WWW-Authenticate": answer.challenge} if answer.challenge else None
    return error_response(request, answer.status, answer.message(exc), headers)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VigileError)
    return domain_error_response(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return _internal_error(request, exc)


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    _log.error("request %s failed", _id(request), exc_info=exc)
    message = f"{_INTERNAL.shown} (request {_id(request)})"
    return error_response(request, _INTERNAL.status, message)


def _id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "?"))
