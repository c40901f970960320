"""``POST /v1/mail/check`` and ``POST /v1/mail/verify``.

``/v1/mail/check``: a mail gateway's content filter asks whether a message is
phishing aimed at the contacts an incident exposed. The body is the raw RFC 5322
message (``message/rfc822``), up to ``VIGILE_SERVE_MAIL_BODY_BYTES``; the answer is the
verdict, its score and every signal in plain words. The gateway authenticates with its
own credential (``vigile mail gateway-token``), never a customer's or an agent's: the
answer tells which addresses are watched.

``/v1/mail/verify``: anyone holding a message that claims to come from the provider asks
whether it did, with the message's verification code (and the address it was received
at) or the whole message. Public, as a code is 80 bits of an HMAC nobody can guess; the
answer for a genuine one says when it was sent, to whom, and proves its ledger entry."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from vigile.api.deps import store_of
from vigile.api.schemas import ErrorOut
from vigile.errors import InputError, Unauthenticated
from vigile.phishing.service import GuardService
from vigile.phishing.verify import check_pasted

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/mail",
    tags=["phishing"],
    responses={401: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)

_gateway_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="mailGatewayToken",
    description="The mail gateway's credential (`vigile mail gateway-token`).",
)


class SignalOut(BaseModel):
    """One reason, in plain words, and its weight (negative: a reason to trust)."""

    kind: str
    weight: int
    reason: str
    evidence: list[str]


class VerdictOut(BaseModel):
    """clean, suspicious or phishing; the score; every signal."""

    verdict: str
    score: int
    message_id: str
    subject: str
    sender: str
    signals: list[SignalOut]


def _service(request: Request) -> GuardService:
    service: GuardService = request.app.state.guard_service
    return service


def _gateway(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_gateway_bearer)],
) -> None:
    expected = _service(request).settings.phish_gateway_token
    given = credentials.credentials if credentials else ""
    digest = hashlib.sha256(given.encode()).hexdigest()
    if not expected or not given or not hmac.compare_digest(digest, expected.lower()):
        raise Unauthenticated("the mail gateway's credential is missing or wrong")


@router.post(
    "/check",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def check(
    request: Request,
    _: Annotated[None, Depends(_gateway)],
    rcpt: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006 - FastAPI copies it
) -> VerdictOut:
    """Check one message; ``rcpt``: the envelope recipients, when the gateway knows them."""
    body = await request.body()  # read only once the credential has passed
    if not body.strip():
        raise InputError("the body must be an RFC 5322 message; it is empty")
    if any(len(r) > 320 for r in rcpt):
        raise InputError("rcpt: an address has at most 320 characters")
    service = _service(request)
    verdict = await run_in_threadpool(_check, service, body, rcpt)
    return VerdictOut.model_validate(verdict)


def _check(service: GuardService, body: bytes, rcpt: list[str]) -> dict[str, Any]:
    found = service.guard().check(body, recipients=rcpt).to_json()
    found["sender"] = found.pop("from")
    return found


class VerifyIn(BaseModel):
    """A verification code (and the address it was received at), or the whole message."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(default="", max_length=64)
    address: str | None = Field(default=None, max_length=320)
    message: str = Field(default="", max_length=2_000_000)


class VerificationOut(BaseModel):
    """Genuine or not, why; when genuine, what was sent and its inclusion proof."""

    genuine: bool
    reason: str
    message_id: str | None
    incident: str | None
    sent: str | None
    recipient: str | None
    event: str | None
    proof: dict[str, Any] | None


@router.post("/verify", responses={503: {"model": ErrorOut}})
def verify(body: VerifyIn, request: Request) -> VerificationOut:
    """Did the provider send this message? A code, or the whole message."""
    found = check_pasted(
        store_of(request),
        code=body.code,
        message=body.message.encode("utf-8", "surrogateescape"),
        address=body.address,
    )
    return VerificationOut.model_validate(found.to_json())
