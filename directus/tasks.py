"""Background jobs: sync one item after a webhook, and reconcile periodically."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings

from portal.jobs import periodic, task

log = logging.getLogger(__name__)


@task(name="directus.sync_item", max_attempts=5)
def content_sync_item(*, collection: str, key: str) -> None:
    """Mirror one Directus item (the webhook only says *which* item changed)."""
    from directus.services import content_item_sync

    for result in content_item_sync(collection=collection, key=key):
        log.info("directus sync %s/%s: %s", result.collection, result.key, result.action)


@periodic(every=timedelta(minutes=5), name="directus.reconcile")
def content_reconcile_recent() -> None:
    """Repair drift from missed webhooks (Directus never retries a failed Flow)."""
    if not settings.DIRECTUS_URL:
        return
    from directus.services import content_reconcile

    log.info("directus reconcile: %s", content_reconcile(full=False))


@periodic(every=timedelta(hours=6), name="directus.reconcile_full")
def content_reconcile_full() -> None:
    """Compare every item's hash now and then, to catch anything the recent pass missed."""
    if not settings.DIRECTUS_URL:
        return
    from directus.services import content_reconcile

    log.info("directus full reconcile: %s", content_reconcile(full=True))
