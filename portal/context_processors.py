from __future__ import annotations

from typing import Any

from django.http import HttpRequest

NAVIGATION = [
    ("Docs", "/docs/"),
    ("Governance", "/governance/"),
    ("Community", "/community/"),
    ("Roadmap", "/roadmap/"),
    ("Sandboxes", "/sandboxes/"),
    ("HUD", "/hud/"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    """Navigation and role flags every page's header needs."""
    from portal.accounts.roles import user_role

    user = getattr(request, "user", None)
    return {
        "nav_items": NAVIGATION,
        "current_role": user_role(user) if user is not None else None,
    }
