from __future__ import annotations

from channels.auth import AuthMiddlewareStack


def TokenOrSessionAuthMiddleware(inner):  # noqa: N802
    return AuthMiddlewareStack(inner)
