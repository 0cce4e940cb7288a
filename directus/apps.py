from __future__ import annotations

import json
import logging
from pathlib import Path

from django.apps import AppConfig

log = logging.getLogger(__name__)

SEED_FILE = Path(__file__).resolve().parent / "instance" / "seed.json"


class DirectusConfig(AppConfig):
    name = "directus"
    verbose_name = "Content (Directus)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from directus import search  # noqa: F401  (registers the docs and pages sources)
        from directus.home import register as register_home

        register_home()

    def demo_seed(self) -> None:
        """Fill the mirror for `make run`: from Directus when configured, else from seed.json.

        The Directus instance is loaded from the same seed file, so both paths show the same
        docs, pages and announcements.
        """
        from django.conf import settings

        from directus.client import DirectusError
        from directus.models import ContentItem
        from directus.services import content_item_apply, content_reconcile

        if settings.DIRECTUS_URL:
            try:
                log.info("directus: %s", content_reconcile(full=True))
                return
            except DirectusError as exc:
                log.warning("directus unreachable (%s); seeding the mirror from seed.json", exc)
        if ContentItem.objects.exists():
            return
        seed = json.loads(SEED_FILE.read_text())
        page_ids = {page["slug"]: n for n, page in enumerate(seed.get("pages", []), start=1)}
        for collection, items in seed.items():
            for index, raw in enumerate(items, start=1):
                item = {"id": index, "status": "published", **raw}
                if "page_slug" in item:  # navigation → page, as Directus expands it
                    slug = item.pop("page_slug")
                    item["page"] = {"id": page_ids.get(slug), "slug": slug}
                content_item_apply(collection=collection, key=str(index), item=item)
