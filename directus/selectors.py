"""Reads of the content mirror: what anonymous visitors may see, in their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from directus.constants import CONTENT_LANGUAGES, DEFAULT_LANGUAGE, Collection, Status
from directus.models import ContentItem

CACHE_TIMEOUT = 300


def cache_key(*parts: str) -> str:
    return "directus:" + ":".join(parts)


def language_normalize(code: str | None) -> str:
    code = (code or "").split("-")[0].lower()
    return code if code in CONTENT_LANGUAGES else DEFAULT_LANGUAGE


def published(collection: str) -> QuerySet[ContentItem]:
    return ContentItem.objects.filter(collection=collection, status=Status.PUBLISHED)


def content_item_get(*, collection: str, slug: str, language: str) -> ContentItem | None:
    """The published item with ``slug`` in ``language``, else in the default language."""
    key = cache_key("item", collection, slug, language)
    found = cache.get(key)
    if found is not None:
        return found or None
    rows = {
        row.language: row
        for row in published(collection).filter(
            slug=slug, language__in={language, DEFAULT_LANGUAGE}
        )
    }
    item = rows.get(language) or rows.get(DEFAULT_LANGUAGE)
    cache.set(key, item or False, CACHE_TIMEOUT)
    return item


def content_languages(*, collection: str, key: str) -> list[str]:
    """Languages in which an item is available (default language first)."""
    ckey = cache_key("languages", str(content_version()), collection, key)
    cached = cache.get(ckey)
    if cached is not None:
        return list(cached)
    rows = ContentItem.objects.filter(collection=collection, key=key)
    languages = set(rows.values_list("language", flat=True))
    result = [code for code in CONTENT_LANGUAGES if code in languages]
    cache.set(ckey, result, CACHE_TIMEOUT)
    return result


def content_version() -> int:
    """A counter bumped on every mirror change: keys that include it expire all at once."""
    version = cache.get(cache_key("version"))
    if version is None:
        version = int(timezone.now().timestamp() * 1000)
        cache.add(cache_key("version"), version, None)
        version = cache.get(cache_key("version"), version)
    return int(version)


def content_version_bump() -> None:
    try:
        cache.incr(cache_key("version"))
    except ValueError:  # not set yet (or evicted): any new value differs from old keys
        cache.set(cache_key("version"), int(timezone.now().timestamp() * 1000), None)


@dataclass(frozen=True)
class SidebarEntry:
    title: str
    slug: str
    sort: int | None


def docs_sidebar(*, language: str) -> list[tuple[str, list[SidebarEntry]]]:
    """Published docs grouped by section (sections ordered by their first doc's sort)."""
    key = cache_key("sidebar", language)
    cached = cache.get(key)
    if cached is not None:
        return list(cached)
    chosen: dict[str, ContentItem] = {}
    for row in published(Collection.DOCS).filter(language__in={language, DEFAULT_LANGUAGE}):
        if row.key not in chosen or row.language == language:
            chosen[row.key] = row
    groups: dict[str, list[ContentItem]] = {}
    for row in chosen.values():
        groups.setdefault(row.section or "General", []).append(row)

    def order(row: ContentItem) -> tuple[int, str]:
        return (row.sort if row.sort is not None else 1_000_000, row.title.lower())

    sections = []
    for section, rows in groups.items():
        rows.sort(key=order)
        sections.append(
            (order(rows[0]), section, [SidebarEntry(r.title, r.slug, r.sort) for r in rows])
        )
    sections.sort(key=lambda s: (s[0], s[1]))
    result = [(section, entries) for _, section, entries in sections]
    cache.set(key, result, CACHE_TIMEOUT)
    return result


def announcements_current(*, now: datetime | None = None, limit: int = 5) -> list[ContentItem]:
    """Published announcements within their window, pinned first, newest first.

    The home page calls this (or the ``announcements_current`` template tag).
    """
    now = now or timezone.now()
    key = cache_key("announcements")
    rows: list[ContentItem] | None = cache.get(key)
    if rows is None:
        rows = list(
            published(Collection.ANNOUNCEMENTS)
            .filter(language=DEFAULT_LANGUAGE)
            .order_by("-pinned", "-publish_at", "-date_updated")[:100]
        )
        cache.set(key, rows, 60)  # windows open and close on their own: keep this short
    visible = [
        r
        for r in rows
        if (r.publish_at is None or r.publish_at <= now)
        and (r.expires_at is None or r.expires_at > now)
    ]
    return visible[:limit]


def navigation_items() -> list[dict[str, Any]]:
    """Editor-managed navigation links: ``[{label, href}]`` ordered by ``sort``."""
    key = cache_key("navigation")
    cached = cache.get(key)
    if cached is not None:
        return list(cached)
    result = []
    for row in ContentItem.objects.filter(
        collection=Collection.NAVIGATION, language=DEFAULT_LANGUAGE
    ).order_by("sort", "title"):
        page = row.fields.get("page")
        href = str(row.fields.get("url") or "")
        if isinstance(page, dict) and page.get("slug"):
            href = f"/p/{page['slug']}/"
        if href and not href.lower().startswith(("http://", "https://", "/")):
            continue  # never emit javascript: or other schemes into the header
        if href:
            result.append({"label": row.title, "href": href})
    cache.set(key, result, CACHE_TIMEOUT)
    return result


def items_published(*, collection: str, language: str) -> QuerySet[ContentItem]:
    """Published items of a collection in one language (for the API)."""
    return published(collection).filter(language=language).order_by("section", "sort", "title")


def announcements_window_q(now: datetime) -> Q:
    return (Q(publish_at__isnull=True) | Q(publish_at__lte=now)) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
