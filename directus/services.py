"""Writes to the content mirror: sync one item, reconcile everything, accept webhooks.

Directus is read *before* any transaction opens (the client refuses otherwise); the mirror
rows of one item are then replaced in one short transaction, and cache keys and the
``content`` event go out after commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from directus.client import DirectusClient, DirectusError, Item
from directus.constants import (
    BODY_FIELD,
    DEFAULT_LANGUAGE,
    TRANSLATED,
    TRANSLATION_PARENTS,
    Collection,
    Status,
)
from directus.models import ContentItem
from directus.rendering import markdown_render, plain_text

log = logging.getLogger(__name__)

# Bump when rendering changes so reconciliation re-renders every row.
RENDER_VERSION = "1"
# Non-full reconciliation looks this far back for changed items (the periodic job runs
# every few minutes; the margin covers clock skew and a worker that was briefly down).
RECONCILE_LOOKBACK = timedelta(hours=2)
SEARCH_CONFIGS = {"en": "english", "de": "german", "fr": "french", "es": "spanish"}

SyncAction = Literal["created", "updated", "unchanged", "deleted", "absent"]


@dataclass(frozen=True)
class SyncResult:
    collection: str
    key: str
    action: SyncAction


def _fields_param(collection: str) -> str:
    if collection in TRANSLATED:
        return "*,translations.*"
    if collection == Collection.NAVIGATION:
        return "*,page.id,page.slug"
    return "*"


def _dt(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    parsed = parse_datetime(value)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _hash(fields: dict[str, Any]) -> str:
    canonical = json.dumps([RENDER_VERSION, fields], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _rows_for_item(collection: str, item: Item) -> dict[str, dict[str, Any]]:
    """The mirror rows (by language) one Directus item becomes."""
    base = {k: v for k, v in item.items() if k != "translations"}
    status = str(item.get("status") or Status.PUBLISHED)
    if status not in Status.values:
        status = Status.DRAFT  # an unknown status is never shown publicly
    updated = _dt(item.get("date_updated")) or _dt(item.get("date_created"))
    common: dict[str, Any] = {
        "slug": str(item.get("slug") or "")[:200],
        "status": status,
        "section": plain_text(str(item.get("section") or ""))[:120],
        "sort": _int(item.get("sort")),
        "pinned": bool(item.get("pinned")),
        "publish_at": _dt(item.get("publish_at")),
        "expires_at": _dt(item.get("expires_at")),
        "date_updated": updated,
    }
    title_field = "label" if collection == Collection.NAVIGATION else "title"
    rows = {
        DEFAULT_LANGUAGE: {
            **common,
            "fields": base,
            "title": plain_text(str(item.get(title_field) or "")),
        }
    }
    if collection in TRANSLATED:
        for translation in item.get("translations") or []:
            if not isinstance(translation, dict):
                continue
            language = str(translation.get("languages_code") or "")[:8]
            if not language or language == DEFAULT_LANGUAGE:
                continue
            merged = {**base}
            for name, value in translation.items():
                if name in {"id", "languages_code"} or name.endswith("_id"):
                    continue
                if value not in (None, ""):
                    merged[name] = value
            merged["translation_id"] = translation.get("id")
            rows[language] = {
                **common,
                "fields": merged,
                "title": plain_text(str(merged.get("title") or "")),
            }
    for row in rows.values():
        row["content_hash"] = _hash(row["fields"])
        row["title"] = row["title"][:300]
    return rows


def _render(row: dict[str, Any]) -> None:
    rendered = markdown_render(str(row["fields"].get(BODY_FIELD) or ""))
    row["html"] = rendered.html
    row["toc"] = rendered.toc
    row["search_text"] = rendered.text


def _search_vector_refresh(pks: list[int]) -> None:
    if connection.vendor != "postgresql" or not pks:
        return
    from django.contrib.postgres.search import SearchVector

    for language, config in SEARCH_CONFIGS.items():
        ContentItem.objects.filter(pk__in=pks, language=language).update(
            search_vector=SearchVector("title", weight="A", config=config)
            + SearchVector("section", weight="B", config=config)
            + SearchVector("search_text", weight="C", config=config)
        )


def content_cache_drop(*, collection: str, slugs: set[str] | None = None) -> None:
    """Forget cached lists and pages that may show ``collection``'s items."""
    from directus import selectors

    selectors.content_version_bump()
    keys = [selectors.cache_key("announcements"), selectors.cache_key("navigation")]
    for language in [DEFAULT_LANGUAGE, *SEARCH_CONFIGS]:
        keys.append(selectors.cache_key("sidebar", language))
        for slug in slugs or ():
            keys.append(selectors.cache_key("item", collection, slug, language))
    cache.delete_many(keys)


def _publish(collection: str, key: str, action: str, slugs: set[str]) -> None:
    from portal.realtime import publish

    publish(
        "content",
        "content.changed",
        {"collection": collection, "key": key, "action": action, "slugs": sorted(slugs)},
    )


def content_item_apply(*, collection: str, key: str, item: Item | None) -> SyncResult:
    """Make the mirror rows of ``collection``/``key`` match ``item`` (None: it is gone)."""
    key = str(key)
    with transaction.atomic():
        existing = {
            row.language: row
            for row in ContentItem.objects.select_for_update().filter(
                collection=collection, key=key
            )
        }
        slugs = {row.slug for row in existing.values() if row.slug}
        if item is None:
            if not existing:
                return SyncResult(collection, key, "absent")
            ContentItem.objects.filter(collection=collection, key=key).delete()
            action: SyncAction = "deleted"
            changed_pks: list[int] = []
        else:
            rows = _rows_for_item(collection, item)
            changed_pks = []
            for language, values in rows.items():
                current = existing.get(language)
                same = current is not None and current.content_hash == values["content_hash"]
                if same and current is not None and _meta_equal(current, values):
                    continue
                _render(values)
                obj, _ = ContentItem.objects.update_or_create(
                    collection=collection, key=key, language=language, defaults=values
                )
                changed_pks.append(obj.pk)
                slugs.add(obj.slug)
            gone = [lang for lang in existing if lang not in rows]
            if gone:
                ContentItem.objects.filter(
                    collection=collection, key=key, language__in=gone
                ).delete()
            if not changed_pks and not gone:
                return SyncResult(collection, key, "unchanged")
            action = "updated" if existing else "created"
            _search_vector_refresh(changed_pks)
        # Drop now and again after commit: a reader that refills the cache in between
        # would otherwise keep the old copy until the timeout.
        content_cache_drop(collection=collection, slugs=slugs)
        transaction.on_commit(lambda: content_cache_drop(collection=collection, slugs=slugs))
        _publish(collection, key, action, slugs)
    return SyncResult(collection, key, action)


def _meta_equal(row: ContentItem, values: dict[str, Any]) -> bool:
    return all(
        getattr(row, name) == values[name]
        for name in ("status", "slug", "section", "sort", "pinned", "publish_at", "expires_at")
    )


def content_item_sync(
    *, collection: str, key: str, client: DirectusClient | None = None
) -> list[SyncResult]:
    """Fetch one item from Directus and mirror it (or drop it if Directus no longer has it).

    A translation's key is resolved to its parent item, which is re-synced whole.
    """
    client = client or DirectusClient.from_settings()
    key = str(key)
    if collection in TRANSLATION_PARENTS:
        parent_collection, parent_field = TRANSLATION_PARENTS[collection]
        parents: set[str] = set()
        try:
            translation = client.item_get(collection, key, fields=f"id,{parent_field}")
            if translation.get(parent_field) is not None:
                parents.add(str(translation[parent_field]))
        except DirectusError as exc:
            if not exc.not_found:
                raise
            parents.update(
                ContentItem.objects.filter(
                    collection=parent_collection,
                    fields__translation_id=_int(key) or key,
                ).values_list("key", flat=True)
            )
        return [
            r
            for p in sorted(parents)
            for r in content_item_sync(collection=parent_collection, key=p, client=client)
        ]
    if collection not in Collection.values:
        raise ValueError(f"unknown collection {collection!r}")
    try:
        item: Item | None = client.item_get(collection, key, fields=_fields_param(collection))
    except DirectusError as exc:
        if not exc.not_found:
            raise
        item = None
    return [content_item_apply(collection=collection, key=key, item=item)]


@dataclass
class ReconcileReport:
    checked: int = 0
    repaired: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return f"checked {self.checked}, repaired {self.repaired}, deleted {self.deleted}"


def content_reconcile(
    *, full: bool = False, client: DirectusClient | None = None
) -> ReconcileReport:
    """Compare Directus with the mirror and repair drift (missed or failed webhooks).

    Without ``full`` only items changed within ``RECONCILE_LOOKBACK`` are fetched whole;
    deletions are always found by comparing the sets of keys.
    """
    client = client or DirectusClient.from_settings()
    report = ReconcileReport()
    since = (timezone.now() - RECONCILE_LOOKBACK).strftime("%Y-%m-%dT%H:%M:%S")
    for collection in Collection.values:
        keys = {str(i["id"]) for i in client.items_list(collection, fields="id")}
        if full:
            items = client.items_list(collection, fields=_fields_param(collection))
        else:
            recent = json.dumps(
                {"_or": [{"date_updated": {"_gte": since}}, {"date_created": {"_gte": since}}]}
            )
            items = client.items_list(
                collection, fields=_fields_param(collection), filter_json=recent
            )
            known = set(
                ContentItem.objects.filter(collection=collection)
                .values_list("key", flat=True)
                .distinct()
            )
            fetched = {str(i["id"]) for i in items}
            for missing in sorted(keys - known - fetched):  # created while we were deaf
                items.append(client.item_get(collection, missing, fields=_fields_param(collection)))
        for item in items:
            report.checked += 1
            result = content_item_apply(collection=collection, key=str(item["id"]), item=item)
            if result.action in {"created", "updated"}:
                report.repaired += 1
        stale = (
            ContentItem.objects.filter(collection=collection)
            .exclude(key__in=keys)
            .values_list("key", flat=True)
            .distinct()
        )
        for key in sorted(set(stale)):
            content_item_apply(collection=collection, key=key, item=None)
            report.deleted += 1
    return report


# --- webhook --------------------------------------------------------------------------
class WebhookPayloadError(ValueError):
    """The webhook body is not one of the shapes a Directus Flow sends."""


def webhook_targets(payload: Any) -> tuple[str, list[str]]:
    """``(collection, keys)`` from a Flow's ``{{$trigger}}`` body.

    create: ``{"event": "docs.items.create", "key": 6, "collection": "docs", …}``;
    update/delete: ``{"keys": ["3"], …}`` (key types vary between events).
    """
    if not isinstance(payload, dict):
        raise WebhookPayloadError("payload must be a JSON object")
    collection = payload.get("collection")
    if not isinstance(collection, str) or not collection:
        event = payload.get("event")
        collection = event.split(".", 1)[0] if isinstance(event, str) and "." in event else None
    if not collection:
        raise WebhookPayloadError("payload names no collection")
    if collection not in Collection.values and collection not in TRANSLATION_PARENTS:
        raise WebhookPayloadError(f"unknown collection {collection!r}")
    raw_keys: Any = payload.get("keys")
    if raw_keys is None and "key" in payload:
        raw_keys = [payload["key"]]
    if not isinstance(raw_keys, list) or not raw_keys:
        raise WebhookPayloadError("payload has no key or keys")
    keys: list[str] = []
    for raw in raw_keys[:500]:
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise WebhookPayloadError("keys must be strings or integers")
        text = str(raw).strip()
        if not text or len(text) > 64:
            raise WebhookPayloadError("key is empty or too long")
        keys.append(text)
    return collection, list(dict.fromkeys(keys))


def webhook_accept(*, payload: Any) -> list[str]:
    """Validate a webhook body and enqueue one sync job per key. Returns the keys."""
    from directus.tasks import content_sync_item

    collection, keys = webhook_targets(payload)
    for key in keys:
        content_sync_item.enqueue(collection=collection, key=key)
    return keys
