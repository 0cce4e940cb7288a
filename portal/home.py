"""Sections of the home page, contributed by the apps that own the data.

An app registers a section from its ``AppConfig.ready()``::

    register_home_section("open_polls", title="Open polls", order=10,
                          template="governance/home_polls.html", context=open_polls_context)

``context(request)`` returns the template context (or ``None`` to hide the section). The
home page shows a placeholder card for each of the four standard slots nobody filled yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

ContextFn = Callable[[HttpRequest], dict[str, Any] | None]


@dataclass(frozen=True)
class HomeSection:
    key: str
    title: str
    order: int
    template: str
    context: ContextFn


_SECTIONS: dict[str, HomeSection] = {}

STANDARD_SLOTS = [
    ("announcements", "Announcements", "News from the stewards appears here."),
    ("open_polls", "Open polls", "Polls open for voting appear here."),
    ("recent_contributions", "Recent contributions", "Approved contributions appear here."),
    ("running_sandboxes", "Running sandboxes", "Sandboxes maintainers are working in appear here."),
]


def register_home_section(
    key: str, *, title: str, order: int, template: str, context: ContextFn
) -> None:
    _SECTIONS[key] = HomeSection(key, title, order, template, context)


def home_sections_render(request: HttpRequest) -> list[dict[str, Any]]:
    """Render every section; a failing section degrades to an error note, not a 500."""
    rendered = []
    for slot_order, (key, title, placeholder) in enumerate(STANDARD_SLOTS):
        if key not in _SECTIONS:
            rendered.append(
                {
                    "key": key,
                    "title": title,
                    "order": slot_order * 10,
                    "html": "",
                    "placeholder": placeholder,
                }
            )
    for section in _SECTIONS.values():
        try:
            ctx = section.context(request)
            if ctx is None:
                continue
            html = render_to_string(section.template, ctx, request=request)
        except Exception:
            logger.exception("home section %s failed", section.key)
            rendered.append(
                {
                    "key": section.key,
                    "title": section.title,
                    "order": section.order,
                    "html": "",
                    "placeholder": "This section is unavailable right now.",
                }
            )
            continue
        rendered.append(
            {
                "key": section.key,
                "title": section.title,
                "order": section.order,
                "html": html,
                "placeholder": "",
            }
        )
    return sorted(rendered, key=lambda s: s["order"])
