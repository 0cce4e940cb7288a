"""Websocket authentication: the session cookie (browsers) or a bearer token (API clients).

Browsers cannot set headers on a websocket, so they authenticate with their session;
API clients send ``Authorization: Bearer agora_…``. A token that is present but invalid
refuses the socket (close code 4401) rather than silently downgrading to anonymous.
Origin checking stays with ``AllowedHostsOriginValidator`` in ``config/asgi.py``.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser


def bearer_token_from_scope(scope: dict[str, Any]) -> str | None:
    """The raw token of an ``Authorization: Bearer …`` header, or None when absent."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


class BearerTokenAuthMiddleware(BaseMiddleware):
    """Replace ``scope["user"]`` with the bearer token's owner when a token is sent."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = bearer_token_from_scope(scope)
        if raw is not None:
            # Imported here: the tokens module pulls in DRF, whose settings import it back.
            from portal.accounts.tokens import token_authenticate

            scope = dict(scope)
            user = await database_sync_to_async(token_authenticate)(raw) if raw else None
            if user is None:
                scope["user"] = AnonymousUser()
                scope["auth_error"] = "invalid, expired or revoked token"
            else:
                scope["user"] = user
        return await super().__call__(scope, receive, send)


def TokenOrSessionAuthMiddleware(inner: Any) -> Any:
    """Session auth (cookies, sessions, user) with bearer tokens taking precedence."""
    return AuthMiddlewareStack(BearerTokenAuthMiddleware(inner))


class OriginValidator:
    """Refuse cross-origin browser sockets; let header-authenticated API clients in.

    Browsers always send ``Origin`` on a websocket handshake and cannot set
    ``Authorization``, so a socket with a bearer token and no ``Origin`` is a non-browser
    client: it cannot be a cross-site request riding on someone's cookies. Such a socket
    still has to present a valid token (``BearerTokenAuthMiddleware`` refuses it
    otherwise). Everything else goes through ``AllowedHostsOriginValidator``.
    """

    def __init__(self, inner: Any) -> None:
        from channels.security.websocket import AllowedHostsOriginValidator

        self.inner = inner
        self.browser_checked = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        has_origin = any(name.lower() == b"origin" for name, _ in scope.get("headers", ()))
        if not has_origin and bearer_token_from_scope(scope):
            return await self.inner(scope, receive, send)
        return await self.browser_checked(scope, receive, send)
