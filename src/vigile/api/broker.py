"""``/v1`` routes of the access broker: agents search and view customers (masked),
reveal fields with a justification, ask for grants; supervisors and customers approve
them; analysts suspend and resume agents; the ticketing system sends ticket steps.

Every data request is recorded by :class:`vigile.broker.Broker` before its answer is
built here; this module only translates HTTP to the broker and back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import Scope

from vigile.activitylog.codec import InvalidField, decode
from vigile.api.deps import customer_id as customer_of_token
from vigile.api.errors import domain_error_response, error_response, validation_message
from vigile.api.schemas import ErrorOut
from vigile.broker import (
    Broker,
    Grant,
    GrantStatus,
    InvalidBrokerRequest,
    Principal,
    Unauthenticated,
)
from vigile.broker import operations as ops
from vigile.broker.approvals import CallApproval
from vigile.broker.views import Shown
from vigile.errors import StoreError
from vigile.model import Action, TicketEvent
from vigile.model.times import format_rfc3339
from vigile.settings import Settings
from vigile.store import Store

__all__ = ["install", "refused_before_routing", "router"]

_agent_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="agentToken",
    description="An agent's JWT: from the OIDC issuer, or `vigile broker token AGENT`.",
)
_integration_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="integrationToken",
    description="The ticketing system's credential (`vigile broker integration-token`).",
)
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (401, 403, 404, 409, 422, 503)
}
router = APIRouter(prefix="/v1", tags=["broker"], responses=_ERRORS)

Reason = Literal["customer_initiated_support", "agent_initiated_review", "break_glass", "none"]
GrantReason = Literal["customer_initiated_support", "agent_initiated_review", "break_glass"]
FieldClass = Literal["contact", "account", "billing"]
Revealable = Literal[
    "contact.email", "contact.phone", "account.email", "subscription.monthly_amount"
]


# -- dependencies ------------------------------------------------------------------------


def broker_of(request: Request) -> Broker:
    """The broker the app was created with."""
    broker: Broker = request.app.state.broker
    return broker


BrokerDep = Annotated[Broker, Depends(broker_of)]


async def agent(
    request: Request,
    broker: BrokerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_agent_bearer)],
) -> Principal:
    """The authenticated agent (401 otherwise); a new session is recorded as a sign-in.

    A known token on an open session is checked right here (microseconds: the signature
    was checked before, the session is one read); anything that may record waits for
    its commit in a worker thread, never on the event loop."""
    token = credentials.credentials if credentials else None
    ip = request.client.host if request.client else "0.0.0.0"  # noqa: S104 - a label
    known = broker.auth.known(token, ip=ip)
    if known is not None:
        return known
    return await run_in_threadpool(
        broker.authenticate, token, ip=ip, user_agent=request.headers.get("user-agent")
    )


AgentDep = Annotated[Principal, Depends(agent)]
TicketQuery = Annotated[
    str | None, Query(max_length=200, description="The ticket given as justification.")
]
ReasonQuery = Annotated[str, Query(max_length=64, description="Justification code.")]


# -- shapes ------------------------------------------------------------------------------


class CustomerHit(BaseModel):
    id: str
    name: str | None


class RevealIn(BaseModel):
    object: str = Field(max_length=200, description="The contact, account or subscription id.")
    field: Revealable
    ticket: str | None = Field(default=None, max_length=200)
    reason: Reason


class JustificationIn(BaseModel):
    ticket: str | None = Field(default=None, max_length=200)
    reason: Reason


class GrantIn(BaseModel):
    customer: str = Field(max_length=200)
    classes: list[FieldClass] = Field(min_length=1, max_length=3)
    duration_seconds: int = Field(gt=0, le=7 * 24 * 3600)
    reason: GrantReason
    ticket: str | None = Field(default=None, max_length=200)


class GrantOut(BaseModel):
    id: str
    agent: str
    customer: str
    classes: list[str]
    reason: str
    ticket: str | None
    duration_seconds: int
    status: str
    lockbox: bool = Field(description="Only the customer's approver may approve it.")
    customer_approved: bool
    requested: str
    decided: str | None
    decided_by: str | None
    starts: str | None = Field(description="Approval time: the grant's clock starts here.")
    expires: str | None
    ended: str | None
    ended_by: str | None


class ContainmentIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ContainmentOut(BaseModel):
    agent: str
    outcome: str


class TicketsOut(BaseModel):
    accepted: int = Field(description="How many steps this request stored.")
    duplicates: list[str] = Field(
        description="Ids of steps already stored (or sent twice) unchanged: kept once."
    )


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_rfc3339(moment)


def _grant_out(grant: Grant) -> GrantOut:
    return GrantOut(
        id=grant.id,
        agent=grant.agent,
        customer=grant.customer,
        classes=list(grant.classes),
        reason=grant.reason,
        ticket=grant.ticket,
        duration_seconds=int(grant.duration.total_seconds()),
        status=grant.status.value,
        lockbox=grant.lockbox,
        customer_approved=grant.customer_approved,
        requested=format_rfc3339(grant.requested),
        decided=_time(grant.decided),
        decided_by=grant.decided_by,
        starts=_time(grant.starts),
        expires=_time(grant.expires),
        ended=_time(grant.ended),
        ended_by=grant.ended_by,
    )


# -- customer data -----------------------------------------------------------------------


def _json(body: object) -> Response:
    """A JSON response encoded once (the route's ``response_model`` documents it)."""
    return Response(content=orjson.dumps(body), media_type="application/json")


#: The recorded access event's id, and the ledger's signed promise to include it: the
#: signed note of :mod:`vigile.ledger.promise` in base64 (a header holds no newline).
EVENT_HEADER = "Vigile-Event"
PROMISE_HEADER = "Vigile-Inclusion-Promise"


def _shown(shown: Shown) -> Response:
    """The body of a served request, with its event and promise of inclusion."""
    response = _json(shown.body)
    if shown.event is not None:
        response.headers[EVENT_HEADER] = shown.event
    if shown.promise is not None:
        response.headers[PROMISE_HEADER] = base64.b64encode(shown.promise.encode()).decode()
    return response


@router.get("/customers", response_model=list[CustomerHit])
async def search_customers(
    broker: BrokerDep,
    who: AgentDep,
    q: Annotated[str, Query(max_length=100, description="Part of a customer's name, or an id.")],
) -> Response:
    """Customers by name: ids and names only, a bounded number, a minimum query length."""
    return _json(await run_in_threadpool(broker.search, who, q))


class _QuickRead(APIRoute):
    """A justified read (``GET`` a customer or its lists, ``?ticket=&reason=``), served
    without FastAPI's dependency solving when the request is plain: a bearer token, no
    query parameter but ``ticket`` and ``reason`` (each once, within its length). That
    solving costs more than the decision itself. Anything else (no token, a parameter
    too long, an unknown one, overridden dependencies) takes FastAPI's own handler, which
    stays the reference: same endpoint, same answers, same errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            plain = _plain_read(request)
            if plain is None:
                return await standard(request)
            credentials, ticket, reason = plain
            broker = broker_of(request)
            who = await agent(request, broker, credentials)
            response: Response = await endpoint(
                broker=broker,
                who=who,
                customer_id=request.path_params["customer_id"],
                ticket=ticket,
                reason=reason,
            )
            return response

        return handler


_QUERY_LIMITS = {"ticket": 200, "reason": 64}  # as TicketQuery and ReasonQuery declare


def _plain_read(request: Request) -> tuple[HTTPAuthorizationCredentials, str | None, str] | None:
    """``(credentials, ticket, reason)`` of a plain justified read, else ``None``."""
    if request.app.dependency_overrides:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    items = request.query_params.multi_items()
    given = dict(items)
    if len(given) != len(items) or any(
        name not in _QUERY_LIMITS or len(value) > _QUERY_LIMITS[name] for name, value in items
    ):
        return None
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
    return credentials, given.get("ticket"), given.get("reason", "none")


async def view_customer(
    broker: BrokerDep,
    who: AgentDep,
    customer_id: str,
    ticket: TicketQuery = None,
    reason: ReasonQuery = "none",
) -> Response:
    """The customer's name, tier and country (needs a justification)."""
    shown = await run_in_threadpool(
        broker.view_customer, who, customer_id, ticket=ticket, reason=reason
    )
    return _shown(shown)


router.add_api_route(
    "/customers/{customer_id}",
    view_customer,
    methods=["GET"],
    response_model=dict[str, Any],
    route_class_override=_QuickRead,
)


def _listing(what: str) -> Any:
    async def listing(
        broker: BrokerDep,
        who: AgentDep,
        customer_id: str,
        ticket: TicketQuery = None,
        reason: ReasonQuery = "none",
    ) -> Response:
        shown = await run_in_threadpool(
            broker.view_list, who, customer_id, what, ticket=ticket, reason=reason
        )
        return _shown(shown)

    listing.__name__ = f"view_{what}"
    listing.__doc__ = f"The customer's {what}, sensitive fields masked (needs a justification)."
    return listing


for _what in ("contacts", "accounts", "subscriptions"):
    router.add_api_route(
        f"/customers/{{customer_id}}/{_what}",
        _listing(_what),
        methods=["GET"],
        response_model=list[dict[str, Any]],
        route_class_override=_QuickRead,
    )


@router.post("/customers/{customer_id}/reveal", response_model=dict[str, Any])
async def reveal(broker: BrokerDep, who: AgentDep, customer_id: str, ask: RevealIn) -> Response:
    """One field of one object in clear: needs an assigned ticket, a grant covering the
    field, or break-glass, and a reason."""
    shown = await run_in_threadpool(
        broker.reveal,
        who,
        customer_id,
        object_id=ask.object,
        field=ask.field,
        ticket=ask.ticket,
        reason=ask.reason,
    )
    return _shown(shown)


@router.post("/customers/{customer_id}/export")
def export(
    broker: BrokerDep, who: AgentDep, customer_id: str, ask: JustificationIn
) -> list[dict[str, Any]]:
    """A bulk export of a customer's contacts (forbidden by the default policies)."""
    body: list[dict[str, Any]] = broker.export(
        who, customer_id, ticket=ask.ticket, reason=ask.reason
    ).body
    return body


# -- grants ------------------------------------------------------------------------------


@router.post("/grants", status_code=201)
def request_grant(broker: BrokerDep, who: AgentDep, ask: GrantIn) -> GrantOut:
    """Ask for a just-in-time grant; approvers are told."""
    grant = broker.request_grant(
        who,
        ask.customer,
        classes=tuple(ask.classes),
        duration=timedelta(seconds=ask.duration_seconds),
        reason=ask.reason,
        ticket=ask.ticket,
    )
    return _grant_out(grant)


@router.get("/grants")
def list_grants(
    broker: BrokerDep,
    who: AgentDep,
    status: Annotated[GrantStatus | None, Query(description="Only grants in this state.")] = None,
) -> list[GrantOut]:
    """Grants, oldest first: supervisors and analysts see all (approvers find the pending
    ones here), an agent its own."""
    return [_grant_out(g) for g in ops.grants_for(broker, who, status)]


@router.get("/grants/{grant_id}")
def get_grant(broker: BrokerDep, who: AgentDep, grant_id: str) -> GrantOut:
    """A grant: its agent, supervisors and analysts may read it."""
    return _grant_out(ops.grant_for(broker, who, grant_id))


@router.post("/grants/{grant_id}/approve")
def approve_grant(broker: BrokerDep, who: AgentDep, grant_id: str) -> GrantOut:
    """A supervisor approves (not under lockbox, never their own); the clock starts now."""
    return _grant_out(ops.approve_grant(broker, who, grant_id))


@router.post("/grants/{grant_id}/deny")
def deny_grant(broker: BrokerDep, who: AgentDep, grant_id: str) -> GrantOut:
    """A supervisor denies a pending grant."""
    return _grant_out(ops.deny_grant(broker, who, grant_id))


@router.post("/grants/{grant_id}/revoke")
def revoke_grant(broker: BrokerDep, who: AgentDep, grant_id: str) -> GrantOut:
    """The grant's agent, a supervisor or an analyst revokes it."""
    return _grant_out(ops.revoke_grant(broker, who, grant_id))


class ApprovalOut(BaseModel):
    id: str
    agent: str
    tool: str
    customer: str
    digest: str = Field(description="SHA-256 of the tool and its arguments: the exact call.")
    policy_version: str
    supervisor: str
    status: str
    requested: str
    decided: str | None
    decided_by: str | None
    expires: str | None = Field(description="Honoured once, until then.")
    used: str | None


def _approval_out(approval: CallApproval) -> ApprovalOut:
    call = approval.call
    return ApprovalOut(
        id=approval.id,
        agent=call.agent,
        tool=call.tool,
        customer=call.customer,
        digest=call.digest,
        policy_version=call.policy_version,
        supervisor=approval.supervisor,
        status=approval.status.value,
        requested=format_rfc3339(approval.requested),
        decided=_time(approval.decided),
        decided_by=approval.decided_by,
        expires=_time(approval.expires),
        used=_time(approval.used),
    )


@router.get("/approvals", tags=["ai-agents"])
def list_approvals(broker: BrokerDep, who: AgentDep) -> list[ApprovalOut]:
    """Calls of AI agents waiting for the caller's decision (as their supervisor)."""
    return [_approval_out(a) for a in ops.approvals_for(broker, who)]


@router.post("/approvals/{approval_id}/approve", tags=["ai-agents"])
def approve_call(broker: BrokerDep, who: AgentDep, approval_id: str) -> ApprovalOut:
    """The AI agent's supervisor approves one exact call (supervisor role, MFA)."""
    return _approval_out(ops.decide_call(broker, who, approval_id, approve=True))


@router.post("/approvals/{approval_id}/deny", tags=["ai-agents"])
def deny_call(broker: BrokerDep, who: AgentDep, approval_id: str) -> ApprovalOut:
    """The AI agent's supervisor denies the call."""
    return _approval_out(ops.decide_call(broker, who, approval_id, approve=False))


CustomerDep = Annotated[str, Depends(customer_of_token)]


@router.get("/lockbox/grants", tags=["lockbox"])
def lockbox_grants(
    broker: BrokerDep,
    customer: CustomerDep,
    status: Annotated[GrantStatus | None, Query(description="Only grants in this state.")] = None,
) -> list[GrantOut]:
    """Every grant on the caller's data (customer token), oldest first."""
    broker.grants.sweep(broker.clock())
    return [_grant_out(g) for g in broker.grants.history(customer=customer, status=status)]


@router.post("/lockbox/grants/{grant_id}/approve", tags=["lockbox"])
def lockbox_approve(broker: BrokerDep, customer: CustomerDep, grant_id: str) -> GrantOut:
    """The customer's approver (customer token) approves a grant on its data."""
    return _grant_out(ops.approve_as_customer(broker, customer, grant_id))


@router.post("/lockbox/grants/{grant_id}/deny", tags=["lockbox"])
def lockbox_deny(broker: BrokerDep, customer: CustomerDep, grant_id: str) -> GrantOut:
    """The customer's approver denies a grant on its data."""
    return _grant_out(ops.deny_as_customer(broker, customer, grant_id))


# -- containment and tickets -------------------------------------------------------------


@router.post("/agents/{agent_id}/suspend", tags=["containment"])
def suspend(broker: BrokerDep, who: AgentDep, agent_id: str, ask: ContainmentIn) -> ContainmentOut:
    """An analyst suspends an agent: every session revoked, every request denied."""
    return ContainmentOut(
        agent=agent_id, outcome=ops.suspend_agent(broker, who, agent_id, ask.reason)
    )


@router.post("/agents/{agent_id}/resume", tags=["containment"])
def resume(broker: BrokerDep, who: AgentDep, agent_id: str, ask: ContainmentIn) -> ContainmentOut:
    """An analyst lifts a suspension (the agent signs in again)."""
    done = ops.resume_agent(broker, who, agent_id, ask.reason)
    return ContainmentOut(agent=agent_id, outcome="resumed" if done else "not suspended")


def integration(
    broker: BrokerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_integration_bearer)],
) -> None:
    """The ticketing system's own credential (never an agent's)."""
    expected = broker.settings.broker_integration_token
    given = credentials.credentials if credentials else ""
    digest = hashlib.sha256(given.encode()).hexdigest()
    if not expected or not given or not hmac.compare_digest(digest, expected.lower()):
        raise Unauthenticated("the integration credential is missing or wrong")


#: The ticket feed's body: up to 10,000 records, each a JSON object.
_TICKET_RECORDS: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(
    Annotated[list[dict[str, Any]], Field(max_length=10_000)]
)


async def _ticket_records(
    request: Request, _: Annotated[None, Depends(integration)]
) -> list[dict[str, Any]]:
    """The records sent, read only once the credential has passed: FastAPI reads a
    declared body before any dependency, so anyone could have it parse megabytes."""
    body = await request.body()
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deep
        error = {"type": "json_invalid", "loc": ("body", getattr(exc, "pos", 0))}
        raise RequestValidationError([error | {"msg": "JSON decode error"}]) from exc
    try:
        return _TICKET_RECORDS.validate_python(parsed)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


@router.post(
    "/integrations/tickets",
    tags=["integrations"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _TICKET_RECORDS.json_schema()}},
        }
    },
)
def receive_tickets(
    broker: BrokerDep, records: Annotated[list[dict[str, Any]], Depends(_ticket_records)]
) -> TicketsOut:
    """Ticket lifecycle records in the activity-log format (``kind: ticket``). A resent
    step (same id, same content) is a duplicate, kept once; a step reusing a stored id
    with other content is refused (422 naming it), and then nothing is stored."""
    steps: list[TicketEvent] = []
    for index, record in enumerate(records):
        try:
            step = decode(record)
        except InvalidField as exc:
            raise InvalidBrokerRequest(f"record {index}: {exc}") from exc
        if not isinstance(step, TicketEvent):
            raise InvalidBrokerRequest(f"record {index}: only ticket records are accepted here")
        steps.append(step)
    done = ops.record_tickets(broker, steps)
    return TicketsOut(accepted=len(done.stored), duplicates=list(done.duplicates))


# -- wiring ------------------------------------------------------------------------------

#: What a request for customer data is recorded as when its input does not validate.
_DATA_ROUTES: dict[str, Action] = {
    "/v1/customers": Action.CUSTOMER_SEARCH,
    "/v1/customers/{customer_id}": Action.CUSTOMER_VIEW,
    "/v1/customers/{customer_id}/contacts": Action.CONTACT_VIEW,
    "/v1/customers/{customer_id}/accounts": Action.ACCOUNT_VIEW,
    "/v1/customers/{customer_id}/subscriptions": Action.SUBSCRIPTION_VIEW,
    "/v1/customers/{customer_id}/reveal": Action.CONTACT_REVEAL,
    "/v1/customers/{customer_id}/export": Action.EXPORT,
}


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """A request whose input does not validate: 422 in the one error shape; one for
    customer data by an authenticated agent is recorded first, as a denied access."""
    assert isinstance(exc, RequestValidationError)
    message = validation_message(exc)
    route = request.scope.get("route")
    action = _DATA_ROUTES.get(getattr(route, "path", ""))
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if action is not None and scheme.lower() == "bearer" and token:
        try:
            await _record_refusal(request, token, action, f"invalid request: {message}")
        except StoreError as down:  # not recorded: not answered either
            return domain_error_response(request, down)
    return error_response(request, 422, message)


async def refused_before_routing(scope: Scope, why: str) -> None:
    """Record a request for customer data that the app refused before routing it (a NUL
    character in it: :class:`~vigile.api.errors.RefuseNul`), as a denied access, its
    text with the NUL replaced."""
    scheme, _, token = Request(scope).headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.path not in _DATA_ROUTES:
            continue
        match, child = route.matches(scope)
        if match is Match.FULL:
            request = Request({**scope, **child})
            await _record_refusal(request, token, _DATA_ROUTES[route.path], why)
            return


def _text(value: str | None) -> str | None:
    """Text as an event may carry it: no NUL (PostgreSQL text holds none)."""
    return None if value is None else value.replace("\x00", "\ufffd")


async def _record_refusal(request: Request, token: str, action: Action, why: str) -> None:
    broker = broker_of(request)
    ip = request.client.host if request.client else "0.0.0.0"  # noqa: S104 - a label
    who = broker.auth.known(token, ip=ip)
    if who is None:
        try:
            who = await run_in_threadpool(
                broker.authenticate, token, ip=ip, user_agent=request.headers.get("user-agent")
            )
        except Unauthenticated:
            return  # nobody to attribute it to: the 422 alone
    await run_in_threadpool(
        broker.refuse,
        who,
        action,
        customer=_text(request.path_params.get("customer_id")),
        ticket=_text(request.query_params.get("ticket")),
        reason=request.query_params.get("reason", "none"),
        why=why,
    )


def install(app: FastAPI, settings: Settings, store: Store) -> None:
    """Create the broker over ``store`` (policies validated now: an invalid one stops
    the start), and serve its routes; its errors are answered as their families say
    (:data:`vigile.errors.ANSWERS`), in the one error shape."""
    app.state.broker = Broker(store, settings)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    before = len(app.router.routes)
    app.include_router(router)
    # Matched first: routing tries each router in turn, and these paths (all under
    # /v1/customers, /v1/grants, /v1/approvals, /v1/lockbox, /v1/agents,
    # /v1/integrations) are the broker's alone, so the order changes no answer, only the
    # work per request.
    ours = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = ours
