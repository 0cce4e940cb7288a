"""Permission classes for the portal's API (roles are checked here, objects in selectors)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission


class IsSteward(BasePermission):
    """Only stewards; everyone else gets 403 (401 when not signed in)."""

    message = "only stewards can do this"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_steward)
