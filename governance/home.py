"""The home page's "Open polls" section."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def open_polls_context(request: HttpRequest) -> dict[str, Any]:
    from governance.models.choices import PollStatus
    from governance.selectors import participation_count, polls_visible

    polls = list(
        polls_visible(user=request.user)
        .filter(status=PollStatus.OPEN)
        .order_by("closes_at", "pk")[:5]
    )
    return {"polls": [(poll, participation_count(poll=poll)) for poll in polls]}


def register() -> None:
    from portal.home import register_home_section

    register_home_section(
        "open_polls",
        title="Open polls",
        order=10,
        template="governance/home_section.html",
        context=open_polls_context,
    )
