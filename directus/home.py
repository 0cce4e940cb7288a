"""The home page's "Announcements" section, from the content mirror."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def announcements_context(request: HttpRequest) -> dict[str, Any]:
    from directus.selectors import announcements_current

    return {"announcements": announcements_current(limit=3)}


def register() -> None:
    from portal.home import register_home_section

    register_home_section(
        "announcements",
        title="Announcements",
        order=0,
        template="directus/home_section.html",
        context=announcements_context,
    )
