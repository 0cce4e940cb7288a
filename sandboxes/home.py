"""The home page's "Running sandboxes" section (maintainers see their own and shared ones)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def running_sandboxes_context(request: HttpRequest) -> dict[str, Any]:
    from sandboxes.models import Sandbox, SandboxState
    from sandboxes.selectors import sandboxes_for_user

    user: Any = request.user
    running_total = Sandbox.objects.filter(state=SandboxState.RUNNING).count()
    mine: list[Any] = []
    if getattr(user, "is_authenticated", False) and user.has_role("maintainer"):
        mine = list(
            sandboxes_for_user(user).filter(state=SandboxState.RUNNING).order_by("-started_at")[:5]
        )
    return {"running_total": running_total, "mine": mine}


def register() -> None:
    from portal.home import register_home_section

    register_home_section(
        "running_sandboxes",
        title="Running sandboxes",
        order=30,
        template="sandboxes/home_section.html",
        context=running_sandboxes_context,
    )
