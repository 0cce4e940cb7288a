"""Names shared by the mirror, the webhook and the setup of the Directus instance."""

from __future__ import annotations

from django.db import models

DEFAULT_LANGUAGE = "en"
# Content languages editors may translate into (code → label shown in the switcher).
CONTENT_LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
}


class Collection(models.TextChoices):
    """Directus collections mirrored by the portal."""

    PAGES = "pages", "Pages"
    DOCS = "docs", "Docs"
    ANNOUNCEMENTS = "announcements", "Announcements"
    NAVIGATION = "navigation", "Navigation"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


# Collections whose items carry per-language rows in ``<collection>_translations``.
TRANSLATED = {Collection.PAGES.value, Collection.DOCS.value}
# Translation collection → (parent collection, foreign key field on the translation).
TRANSLATION_PARENTS: dict[str, tuple[str, str]] = {
    "pages_translations": ("pages", "pages_id"),
    "docs_translations": ("docs", "docs_id"),
}
# Fields whose Markdown is rendered into ``ContentItem.html``.
BODY_FIELD = "body"
