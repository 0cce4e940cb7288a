"""Syncing one item into the mirror, and reconciling the mirror with Directus."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from directus import selectors
from directus.client import DirectusError
from directus.models import ContentItem
from directus.services import content_item_sync, content_reconcile
from tests.directus.conftest import StubDirectus, doc_item

pytestmark = pytest.mark.django_db


def test_a_new_doc_is_mirrored_rendered_and_announced(
    stub_directus: StubDirectus, published_events: list
) -> None:
    stub_directus.put("docs", doc_item(6, body="# Hi\n\n<script>x()</script>Text"))
    [result] = content_item_sync(collection="docs", key=6)
    assert result.action == "created"
    row = ContentItem.objects.get(collection="docs", key="6", language="en")
    assert row.slug == "doc-6" and row.status == "published" and row.section == "Basics"
    assert '<h1 id="hi">Hi</h1>' in row.html and "<script" not in row.html
    assert row.date_updated is not None and row.date_updated.year == 2026
    assert len(row.content_hash) == 64
    assert published_events == [
        (
            "content",
            "content.changed",
            {"collection": "docs", "key": "6", "action": "created", "slugs": ["doc-6"]},
        )
    ]


def test_syncing_an_unchanged_item_writes_nothing_and_publishes_nothing(
    stub_directus: StubDirectus, published_events: list
) -> None:
    stub_directus.put("docs", doc_item(1))
    content_item_sync(collection="docs", key="1")
    synced_at = ContentItem.objects.get().synced_at
    [result] = content_item_sync(collection="docs", key="1")
    assert result.action == "unchanged"
    assert ContentItem.objects.get().synced_at == synced_at
    assert len(published_events) == 1


def test_an_update_replaces_the_rendered_body_and_drops_cached_copies(
    stub_directus: StubDirectus, published_events: list
) -> None:
    stub_directus.put("docs", doc_item(1))
    content_item_sync(collection="docs", key="1")
    assert selectors.content_item_get(collection="docs", slug="doc-1", language="en") is not None
    assert selectors.docs_sidebar(language="en")[0][1][0].title == "Doc 1"
    stub_directus.put("docs", doc_item(1, title="Renamed", body="New words"))
    [result] = content_item_sync(collection="docs", key="1")
    assert result.action == "updated"
    item = selectors.content_item_get(collection="docs", slug="doc-1", language="en")
    assert item is not None and "New words" in item.html and item.title == "Renamed"
    assert selectors.docs_sidebar(language="en")[0][1][0].title == "Renamed"


def test_unpublishing_hides_the_item_from_readers(
    stub_directus: StubDirectus, published_events: list
) -> None:
    stub_directus.put("docs", doc_item(1))
    content_item_sync(collection="docs", key="1")
    assert selectors.content_item_get(collection="docs", slug="doc-1", language="en")
    stub_directus.put("docs", doc_item(1, status="draft"))
    content_item_sync(collection="docs", key="1")
    assert ContentItem.objects.get().status == "draft"
    assert selectors.content_item_get(collection="docs", slug="doc-1", language="en") is None
    assert selectors.docs_sidebar(language="en") == []


def test_a_key_that_vanished_from_directus_is_removed(
    stub_directus: StubDirectus, published_events: list
) -> None:
    stub_directus.put("docs", doc_item(3))
    content_item_sync(collection="docs", key="3")
    del stub_directus.items[("docs", "3")]
    [result] = content_item_sync(collection="docs", key=3)
    assert result.action == "deleted"
    assert not ContentItem.objects.exists()
    assert published_events[-1][2]["action"] == "deleted"
    [again] = content_item_sync(collection="docs", key="3")
    assert again.action == "absent"


def test_an_unreachable_directus_raises_and_leaves_the_mirror_alone(
    stub_directus: StubDirectus, published_events: list
) -> None:
    stub_directus.put("docs", doc_item(1))
    content_item_sync(collection="docs", key="1")
    stub_directus.down = True
    with pytest.raises(DirectusError):
        content_item_sync(collection="docs", key="1")
    assert ContentItem.objects.filter(key="1").exists()


def test_translations_become_rows_and_missing_languages_fall_back(
    stub_directus: StubDirectus, published_events: list
) -> None:
    translations = [
        {
            "id": 11,
            "docs_id": 1,
            "languages_code": "de",
            "title": "Anfang",
            "body": "Hallo **Welt**",
        }
    ]
    stub_directus.put("docs", doc_item(1, translations=translations))
    content_item_sync(collection="docs", key="1")
    assert set(ContentItem.objects.values_list("language", flat=True)) == {"en", "de"}
    german = selectors.content_item_get(collection="docs", slug="doc-1", language="de")
    assert german is not None and german.language == "de" and german.title == "Anfang"
    assert "<strong>Welt</strong>" in german.html and german.section == "Basics"
    french = selectors.content_item_get(collection="docs", slug="doc-1", language="fr")
    assert french is not None and french.language == "en"
    # Removing the translation removes its row.
    stub_directus.put("docs", doc_item(1, translations=[]))
    content_item_sync(collection="docs", key="1")
    assert list(ContentItem.objects.values_list("language", flat=True)) == ["en"]


def test_a_translation_event_resyncs_its_parent(
    stub_directus: StubDirectus, published_events: list
) -> None:
    translation = {"id": 11, "docs_id": 1, "languages_code": "de", "title": "Anfang", "body": "x"}
    stub_directus.put("docs", doc_item(1, translations=[translation]))
    stub_directus.put("docs_translations", translation)
    results = content_item_sync(collection="docs_translations", key="11")
    assert [(r.collection, r.key) for r in results] == [("docs", "1")]
    assert ContentItem.objects.filter(language="de").exists()
    # Deleted translation: found through the mirror, parent re-synced without it.
    del stub_directus.items[("docs_translations", "11")]
    stub_directus.put("docs", doc_item(1, translations=[]))
    content_item_sync(collection="docs_translations", key="11")
    assert not ContentItem.objects.filter(language="de").exists()


def test_an_unknown_status_is_treated_as_draft(
    stub_directus: StubDirectus, published_events: list
) -> None:
    stub_directus.put("pages", {"id": 1, "status": "weird", "title": "P", "slug": "p", "body": ""})
    content_item_sync(collection="pages", key="1")
    assert ContentItem.objects.get().status == "draft"


def test_reconcile_repairs_missed_changes_and_deletions(
    stub_directus: StubDirectus, published_events: list
) -> None:
    for key in (1, 2, 3):
        stub_directus.put("docs", doc_item(key))
        content_item_sync(collection="docs", key=str(key))
    # While the webhook was not heard: 1 edited, 2 deleted, 4 created.
    stub_directus.put(
        "docs", doc_item(1, body="edited while deaf", date_updated="2026-11-03T10:00:00.000Z")
    )
    del stub_directus.items[("docs", "2")]
    stub_directus.put("docs", doc_item(4))
    report = content_reconcile(full=True)
    assert (report.repaired, report.deleted) == (2, 1)
    assert sorted(ContentItem.objects.values_list("key", flat=True)) == ["1", "3", "4"]
    assert "edited while deaf" in ContentItem.objects.get(key="1").html
    assert content_reconcile(full=True).repaired == 0


def test_cache_is_dropped_after_commit(stub_directus: StubDirectus, published_events: list) -> None:
    cache.clear()
    stub_directus.put(
        "announcements",
        {"id": 1, "status": "published", "title": "A", "body": "x", "pinned": False},
    )
    content_item_sync(collection="announcements", key="1")
    assert [a.title for a in selectors.announcements_current()] == ["A"]
    stub_directus.put(
        "announcements", {"id": 2, "status": "published", "title": "B", "body": "y", "pinned": True}
    )
    content_item_sync(collection="announcements", key="2")
    assert [a.title for a in selectors.announcements_current()] == ["B", "A"]
