"""The home page's "Recent contributions" section."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def recent_contributions_context(request: HttpRequest) -> dict[str, Any]:
    from community.models import Contribution

    recent = (
        Contribution.objects.filter(status="approved", contributor__isnull=False)
        .exclude(contributor__opt_out_listing=True)
        .select_related("type", "contributor__user")
        .order_by("-approved_at")[:5]
    )
    return {"contributions": list(recent)}


def register() -> None:
    from portal.home import register_home_section

    register_home_section(
        "recent_contributions",
        title="Recent contributions",
        order=20,
        template="community/home_section.html",
        context=recent_contributions_context,
    )
