"""Bearer-token authentication for the API views."""

from __future__ import annotations

from functools import wraps

from flask import g, request

from ..errors import AppError
from ..extensions import db_session, runtime, settings
from .rules import Principal
from .service import authenticate, revocation_epoch

SECURITY = [{"bearerAuth": []}]


def current_principal() -> Principal:
    """The caller, authenticating the request's bearer token on first use."""
    principal = g.get("principal")
    if principal is not None:
        return principal
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise AppError("auth.required", "Log in first: send 'Authorization: Bearer <token>'.",
                       headers={"WWW-Authenticate": "Bearer"})
    cache_seconds = settings().token_cache_seconds
    # one Redis GET instead of a PostgreSQL lookup: a revocation ends every process's cache
    epoch = revocation_epoch(runtime().redis) if cache_seconds > 0 else None
    principal = authenticate(db_session(), raw.strip(), cache_seconds=cache_seconds,
                             epoch=epoch)
    if principal.role == "client":
        # another system's Open311 api_key is for /open311/v2 only: as a bearer token it is
        # no staff login (no case trails, exports, reports or uploads)
        raise AppError("auth.open311_key",
                       "An Open311 api_key works on /open311/v2 only; log in as a user here.",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.principal = principal
    return principal


def auth_required(view):
    """Authenticate before the view runs (so a bad token is 401 before any body is parsed)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        current_principal()
        return view(*args, **kwargs)

    return wrapper
