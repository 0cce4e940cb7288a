"""The content mirror: every Directus item the portal serves, one row per language."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models

from directus.constants import DEFAULT_LANGUAGE, Collection, Status


class ContentItem(models.Model):
    """A Directus item as last synced, with its Markdown rendered and sanitized once.

    Pages are always served from here, so an unreachable Directus costs freshness only.
    Translated collections (pages, docs) get one row per language sharing ``key``; the
    default-language row comes from the item itself, the others from its translations.
    """

    collection = models.CharField(max_length=32, choices=Collection.choices)
    key = models.CharField(max_length=64, help_text="Directus primary key, as text")
    language = models.CharField(max_length=8, default=DEFAULT_LANGUAGE)
    slug = models.SlugField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=300, blank=True)
    section = models.CharField(max_length=120, blank=True)
    sort = models.IntegerField(null=True, blank=True)
    pinned = models.BooleanField(default=False)
    publish_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    fields = models.JSONField(default=dict, help_text="The item's fields as Directus sent them")
    html = models.TextField(blank=True, help_text="Rendered, sanitized body")
    toc = models.JSONField(default=list, help_text="[{level, id, text}] of the body's headings")
    search_text = models.TextField(blank=True, help_text="The body as plain text, for search")
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    content_hash = models.CharField(max_length=64)
    date_updated = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "key", "language"], name="directus_item_unique_language"
            ),
        ]
        indexes = [
            models.Index(fields=["collection", "slug", "language"], name="directus_item_slug"),
            models.Index(
                fields=["collection", "status", "section", "sort"], name="directus_item_nav"
            ),
        ]
        ordering = ["collection", "section", "sort", "title"]

    def __str__(self) -> str:
        return f"{self.collection}/{self.key} [{self.language}] {self.title}"

    @property
    def is_published(self) -> bool:
        return self.status == Status.PUBLISHED

    @property
    def url(self) -> str:
        if self.collection == Collection.DOCS:
            return f"/docs/{self.slug}/"
        if self.collection == Collection.PAGES:
            return f"/p/{self.slug}/"
        return ""
