"""The HUD's agent widget updates without a reload when a run starts."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes.agents.services import profiles_shipped_install, run_start
from sandboxes.models import Recipe
from sandboxes.services import recipes_builtin_install
from tests.agents.conftest import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hud_agent_widget_updates_live_for_an_anonymous_visitor(page: Any, maintainer: Any) -> None:
    recipes_builtin_install()
    profiles_shipped_install()
    page.goto("/hud/")
    page.wait_for_selector("#hud-agents-active")
    assert page.inner_text("#hud-agents-active") == "0"
    # Times read as human durations; the exact ISO time is in datetime and title.
    stamp = page.locator("#hud-agents .hud-at time")
    assert stamp.inner_text() == "just now"
    iso = stamp.get_attribute("datetime")
    assert iso and iso.startswith("20") and "T" in iso
    assert stamp.get_attribute("title") == iso
    assert (
        page.evaluate("(iso) => AgoraRelTime.format(iso, Date.parse(iso) + 180000)", iso)
        == "3 min ago"
    )
    assert page.locator("#hud-ledger").count() == 0  # not a public widget
    assert page.locator("#hud-sandboxes canvas").is_visible()  # Chart.js drew a chart
    page.evaluate("window.__marker = 'not reloaded'")
    page.wait_for_function("() => window.AgoraRealtime !== undefined")
    page.wait_for_timeout(1000)  # let the subscription settle

    in_thread(
        run_start,
        user=maintainer,
        profile="researcher",
        task="look around",
        recipe=Recipe.objects.get(slug="shell"),
        steps=[{"finish": "done"}],
    )
    page.wait_for_function(
        "() => document.querySelector('#hud-agents-active').textContent === '1'",
        timeout=10_000,
    )
    assert page.evaluate("window.__marker") == "not reloaded"
    assert page.js_errors == []
