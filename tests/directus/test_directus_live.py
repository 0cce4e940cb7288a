"""End to end against the real Directus `make test` starts: editors' changes reach the
portal through the Flow → webhook → job → mirror, and the mirror outlives Directus."""

from __future__ import annotations

import httpx
import pytest
from django.core.management import call_command

from directus.client import DirectusClient
from directus.models import ContentItem
from tests.directus.live import (
    directus_paused,
    flow_point,
    page_text,
    unique_slug,
    wait_for,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


def doc_fields(slug: str, **overrides: object) -> dict:
    fields = {
        "title": f"Live {slug}",
        "slug": slug,
        "status": "published",
        "section": "Live",
        "sort": 1,
        "body": f"# Live\n\nFirst version of {slug}.",
    }
    fields.update(overrides)
    return fields


def test_create_update_unpublish_and_delete_reach_the_portal(
    directus_live: DirectusClient, live_portal: str
) -> None:
    slug = unique_slug()
    url = f"{live_portal}/docs/{slug}/"
    created = directus_live.item_create("docs", doc_fields(slug))
    key = created["id"]

    _, html = wait_for(lambda: (r := page_text(url))[0] == 200 and r)
    assert f"First version of {slug}" in html

    directus_live.item_update("docs", key, {"body": "## Changed\n\nSecond version."})
    html = wait_for(lambda: (r := page_text(url))[0] == 200 and "Second version" in r[1] and r[1])
    assert '<h2 id="changed">Changed</h2>' in html

    directus_live.item_update("docs", key, {"status": "draft"})
    wait_for(lambda: page_text(url)[0] == 404)
    assert ContentItem.objects.get(collection="docs", key=str(key)).status == "draft"

    directus_live.item_update("docs", key, {"status": "published"})
    wait_for(lambda: page_text(url)[0] == 200)

    directus_live.item_delete("docs", key)
    wait_for(lambda: page_text(url)[0] == 404)
    assert not ContentItem.objects.filter(collection="docs", key=str(key)).exists()


def test_a_translation_added_in_directus_is_served_in_its_language(
    directus_live: DirectusClient, live_portal: str
) -> None:
    slug = unique_slug()
    key = directus_live.item_create("docs", doc_fields(slug))["id"]
    url = f"{live_portal}/docs/{slug}/"
    wait_for(lambda: page_text(url)[0] == 200)
    directus_live.item_update(
        "docs",
        key,
        {
            "translations": {
                "create": [
                    {"languages_code": "de", "title": "Lebendig", "body": "Deutsche Fassung."}
                ]
            }
        },
    )
    wait_for(lambda: "Deutsche Fassung" in page_text(f"{url}?lang=de")[1])
    assert "First version" in page_text(f"{url}?lang=fr")[1]  # falls back to the default
    directus_live.item_delete("docs", key)


def test_a_missed_webhook_is_repaired_by_directus_sync(
    directus_live: DirectusClient, live_portal: str
) -> None:
    slug = unique_slug()
    flow_point("http://127.0.0.1:9/directus/webhook/")  # the portal is "down" for Directus
    try:
        key = directus_live.item_create("docs", doc_fields(slug, body="Written while deaf."))["id"]
        directus_live.item_update("docs", key, {"title": "Renamed while deaf"})
    finally:
        flow_point(f"{live_portal}/directus/webhook/")
    url = f"{live_portal}/docs/{slug}/"
    assert page_text(url)[0] == 404
    call_command("directus_sync")
    status, html = page_text(url)
    assert status == 200 and "Written while deaf." in html and "Renamed while deaf" in html
    # A deletion missed the same way is repaired too.
    flow_point("http://127.0.0.1:9/directus/webhook/")
    try:
        directus_live.item_delete("docs", key)
    finally:
        flow_point(f"{live_portal}/directus/webhook/")
    assert page_text(url)[0] == 200
    call_command("directus_sync", "--full")
    assert page_text(url)[0] == 404


def test_the_webhook_refuses_a_wrong_secret_on_the_live_server(live_portal: str) -> None:
    response = httpx.post(
        f"{live_portal}/directus/webhook/",
        json={"collection": "docs", "key": 1},
        headers={"X-Agora-Webhook-Secret": "nope"},
    )
    assert response.status_code == 401


def test_with_directus_stopped_docs_are_served_from_the_mirror_and_readyz_degrades(
    directus_live: DirectusClient, live_portal: str
) -> None:
    slug = unique_slug()
    key = directus_live.item_create("docs", doc_fields(slug, body="Survives outages."))["id"]
    url = f"{live_portal}/docs/{slug}/"
    wait_for(lambda: page_text(url)[0] == 200)
    with directus_paused():
        status, html = page_text(url)
        assert status == 200 and "Survives outages." in html
        ready = httpx.get(f"{live_portal}/readyz", timeout=30)
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "degraded", body
        assert body["checks"]["directus"]["ok"] is False, body
    wait_for(
        lambda: httpx.get(f"{live_portal}/readyz", timeout=30).json()["status"] == "ok", timeout=30
    )
    directus_live.item_delete("docs", key)
