"""Dependencies shared by the routers: the store, and the authenticated customer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vigile.store import Store
from vigile.transparency import Transparency, authenticate

__all__ = ["CustomerId", "TransparencyDep", "customer_id", "store_of", "transparency"]

_bearer = HTTPBearer(
    auto_error=False,  # a missing token is answered in the one error shape, not FastAPI's
    scheme_name="customerToken",
    description="A customer token issued by `vigile customer-token CUSTOMER_ID`.",
)


def store_of(request: Request) -> Store:
    """The store the app was created with."""
    store: Store = request.app.state.store
    return store


def transparency(store: Annotated[Store, Depends(store_of)]) -> Transparency:
    """The transparency service over the app's store (cheap: one per request)."""
    return Transparency(store)


def customer_id(
    store: Annotated[Store, Depends(store_of)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The customer whose token authenticates the request (401 otherwise)."""
    return authenticate(store.engine, credentials.credentials if credentials else None)


CustomerId = Annotated[str, Depends(customer_id)]
TransparencyDep = Annotated[Transparency, Depends(transparency)]
