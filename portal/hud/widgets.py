"""The HUD's widgets: name, title, who may see them, and how to compute them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from portal.hud import selectors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Widget:
    name: str
    title: str
    public: bool  # anonymous visitors see it (and its data travels on the public topic)
    compute: Callable[[Any], dict[str, Any]]


WIDGETS: dict[str, Widget] = {
    w.name: w
    for w in (
        Widget("agents", "Agent runs", True, selectors.hud_agents),
        Widget("sandboxes", "Sandboxes", True, selectors.hud_sandboxes),
        Widget("polls", "Open polls", True, selectors.hud_polls),
        Widget("contributions", "Contributions", True, selectors.hud_contributions),
        Widget("content", "Content freshness", True, selectors.hud_content),
        Widget("ledger", "Ledger health", False, selectors.hud_ledger),
        Widget("jobs", "Job queue", False, selectors.hud_jobs),
        Widget("api", "API latency and errors", False, selectors.hud_api),
    )
}


def widgets_for(user: Any) -> list[Widget]:
    signed_in = bool(getattr(user, "is_authenticated", False))
    return [w for w in WIDGETS.values() if w.public or signed_in]


def widget_data(widget: Widget, user: Any = None) -> dict[str, Any]:
    """``{"widget", "title", "available", "data", "at"}``; a failing source degrades the
    widget to unavailable (with the reason logged) instead of failing the page."""
    viewer = user if user is not None else AnonymousUser()
    try:
        data: dict[str, Any] | None = widget.compute(viewer)
        available = True
    except Exception:
        logger.exception("HUD widget %s is unavailable", widget.name)
        data, available = None, False
    return {
        "widget": widget.name,
        "title": widget.title,
        "available": available,
        "data": data,
        "at": timezone.now().isoformat(),
    }
