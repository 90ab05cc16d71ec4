"""API keys with roles: ``Depends(require_role(Role.manager))`` guards a route.

A key travels in ``X-API-Key`` (or ``Authorization: Bearer <key>``). No key or an unknown key
is a 401; a key whose role is below the route's is a 403. With no keys configured (or
``auth_disabled``) every route is open -- the app logs a warning at start-up.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from serving.errors import ServingError
from serving.settings import ROLE_RANK, Role, ServingSettings

API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key; its role decides what it may call."
)


def presented_key(request: Request, header_key: str | None) -> str | None:
    """The API key of a request: the X-API-Key header, else a bearer token."""
    if header_key:
        return header_key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def role_of(settings: ServingSettings, key: str) -> Role | None:
    """The role of a presented key (constant-time comparison against every configured key)."""
    found = None
    for known, role in settings.api_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            found = role
    return found


def require_role(minimum: Role) -> Callable:
    """A dependency that lets through keys with ``minimum`` or a higher role."""

    def check(request: Request, header_key: str | None = Depends(API_KEY_HEADER)) -> Role:
        return authorize(request.app.state.settings, presented_key(request, header_key), minimum)

    check.__name__ = f"require_{minimum.value}"
    return check


def authorize(settings: ServingSettings, key: str | None, minimum: Role) -> Role:
    """The role of ``key`` if it may call a route that needs ``minimum`` (401/403 otherwise).
    A plain function, called per request (the dependencies above are built at import)."""
    if not settings.auth_enabled:
        return Role.admin
    if key is None:
        raise ServingError(401, "unauthorized", "an API key is required (X-API-Key header)")
    role = role_of(settings, key)
    if role is None:
        raise ServingError(401, "unauthorized", "the API key is not valid")
    if ROLE_RANK[role] < ROLE_RANK[minimum]:
        raise ServingError(
            403,
            "forbidden",
            f"this route needs the {minimum.value} role; the key has {role.value}",
        )
    return role


reader = require_role(Role.reader)
manager = require_role(Role.manager)
admin = require_role(Role.admin)
