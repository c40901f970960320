"""``POST /v1/signin-check``: may this username sign in? A customer's identity provider or
application asks before letting a username in; retired usernames (renamed after a breach)
are refused, whatever their case and however their letters are disguised with Unicode
confusables. The answer names no customer and no account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from vigile.api.deps import store_of
from vigile.api.schemas import ErrorOut
from vigile.respond import check_signin
from vigile.store import Store

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["response"], responses={422: {"model": ErrorOut}})


class SigninCheckIn(BaseModel):
    """The username about to sign in."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=256)


class SigninCheckOut(BaseModel):
    """Allowed, or refused with a reason and the retired username it matches."""

    username: str
    allowed: bool
    reason: str
    retired: str | None


@router.post("/signin-check", responses={503: {"model": ErrorOut}})
def signin_check(body: SigninCheckIn, store: Annotated[Store, Depends(store_of)]) -> SigninCheckOut:
    """Allowed unless the username is retired (case-insensitive, confusables caught)."""
    return SigninCheckOut.model_validate(check_signin(store, body.username).to_json())
