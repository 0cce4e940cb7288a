"""A doc open in Chromium shows an editor's change without a reload (Directus → Flow →
webhook → job → mirror → ``content`` event → the page re-fetches its article)."""

from __future__ import annotations

from typing import Any

import pytest

from directus.client import DirectusClient
from tests.directus.conftest import directus_live, live_portal  # noqa: F401 (fixtures)
from tests.directus.live import page_text, unique_slug, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_open_doc_shows_the_edited_text_without_reload(
    directus_live: DirectusClient,  # noqa: F811
    live_portal: str,  # noqa: F811
    page: Any,
) -> None:
    slug = unique_slug()
    key = directus_live.item_create(
        "docs",
        {
            "title": "Live edit",
            "slug": slug,
            "status": "published",
            "section": "Live",
            "body": "The original sentence.",
        },
    )["id"]
    url = f"{live_portal}/docs/{slug}/"
    wait_for(lambda: page_text(url)[0] == 200)
    page.goto(url)
    page.wait_for_selector("text=The original sentence.")
    page.evaluate("window.__marker = 'not reloaded'")
    # Wait until the page's websocket subscription is live before editing.
    page.wait_for_function("() => window.AgoraRealtime !== undefined")
    page.wait_for_timeout(1000)

    directus_live.item_update("docs", key, {"body": "A **freshly edited** sentence."})

    page.wait_for_selector("strong:has-text('freshly edited')", timeout=15_000)
    assert page.evaluate("window.__marker") == "not reloaded"
    assert "The original sentence." not in page.content()
    assert page.js_errors == []
    directus_live.item_delete("docs", key)
