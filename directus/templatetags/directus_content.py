"""Template tags other pages use to show Directus content (the home page's announcements)."""

from __future__ import annotations

from typing import Any

from django import template

from directus import selectors

register = template.Library()


@register.inclusion_tag("directus/_announcements.html")
def announcements_current(limit: int = 5) -> dict[str, Any]:
    """``{% load directus_content %}{% announcements_current %}``: current announcements."""
    return {"announcements": selectors.announcements_current(limit=limit)}


@register.simple_tag
def content_navigation() -> list[dict[str, Any]]:
    """``{% content_navigation as links %}``: editor-managed navigation links."""
    return selectors.navigation_items()
