"""Bearer tokens: who calls, and what they may do.

Each route says the scope it needs with `@needs("read")` or `@needs("admin")`; a route without
one (health, readiness, the OpenAPI document, metrics when `http.metrics_open`) answers anyone.
A caller sends `Authorization: Bearer <secret>`; the SHA-256 of the secret is compared with
every configured token's stored hash in constant time (hmac.compare_digest, no early exit), so
neither the secret nor which token matched can be told from timing. No or an unknown token:
401 with `WWW-Authenticate: Bearer`; a read token on an admin route: 403.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from bouncer.config import TokenConfig
from bouncer.http.errors import ApiError

F = TypeVar("F", bound=Callable[..., Any])
TOKEN = web.RequestKey("token", TokenConfig)
SCOPES = ("read", "admin")  # each scope grants what those before it grant


def needs(scope: str) -> Callable[[F], F]:
    """Mark a handler as needing a token of at least this scope (read or admin)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def mark(handler: F) -> F:
        handler.scope = scope  # type: ignore[attr-defined]
        return handler

    return mark


def scope_of(handler: Any) -> str | None:
    """Return the scope a handler needs (None: open to anyone)."""
    return getattr(handler, "scope", None)


class Tokens:
    """The configured tokens, by the hash of their secret."""

    def __init__(self, tokens: Sequence[TokenConfig]) -> None:
        self._tokens = [(bytes.fromhex(token.secret_sha256), token) for token in tokens]

    def __len__(self) -> int:
        """Return how many tokens are configured."""
        return len(self._tokens)

    def find(self, secret: str) -> TokenConfig | None:
        """Return the token whose secret this is, or None (every token compared, always)."""
        digest = hashlib.sha256(secret.encode()).digest()
        found = None
        for stored, token in self._tokens:
            if hmac.compare_digest(digest, stored):
                found = token
        return found


def middleware(tokens: Tokens) -> Any:
    """Return the aiohttp middleware that checks the token of every route that needs one."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Any) -> web.StreamResponse:
        scope = scope_of(request.match_info.route.handler)
        if scope is not None:
            token = _caller(request, tokens)
            if SCOPES.index(token.scope) < SCOPES.index(scope):
                raise ApiError(
                    403,
                    f"the token {token.name!r} has the scope {token.scope}; "
                    f"{request.method} {request.path} needs an {scope} token",
                )
            request[TOKEN] = token
        return await handler(request)

    return authenticate


def _caller(request: web.Request, tokens: Tokens) -> TokenConfig:
    """Return the token the request carries; ApiError 401 when none or an unknown one."""
    challenge = {"WWW-Authenticate": 'Bearer realm="bouncer"'}
    header = request.headers.get("Authorization")
    if header is None:
        detail = "this endpoint needs a token: send Authorization: Bearer <secret>"
        if not len(tokens):
            detail += " (no token is configured: see [http] tokens, or serve --token)"
        raise ApiError(401, detail, "Authorization", challenge)
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "Authorization: must be Bearer <secret>", "Authorization", challenge)
    token = tokens.find(secret.strip())
    if token is None:
        raise ApiError(
            401, "Authorization: the token is not one bouncer knows", "Authorization", challenge
        )
    return token


def is_admin(request: web.Request) -> bool:
    """Tell whether the request was made with an admin token."""
    token = request.get(TOKEN)
    return token is not None and token.scope == "admin"
