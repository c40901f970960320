"""The HTTP API (FastAPI): one router per domain, pydantic at the boundary only.

- :mod:`~vigile.api.health` ``GET /health``;
- :mod:`~vigile.api.ledger` the ledger's public checkpoint and consistency proofs;
- :mod:`~vigile.api.transparency` a customer's own accesses, with proofs;
- :mod:`~vigile.api.errors` the one error shape.
"""

from vigile.api.app import create_app

__all__ = ["create_app"]
