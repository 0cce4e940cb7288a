"""The job runner's own housekeeping."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from portal.jobs.registry import periodic
from portal.jobs.services import jobs_prune

DEFAULT_RETENTION_DAYS = 14


@periodic(every=timedelta(hours=6), name="jobs.prune")
def prune_finished_jobs() -> int:
    """Delete finished jobs older than ``JOBS_RETENTION_DAYS`` (default 14)."""
    days = int(getattr(settings, "JOBS_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    return jobs_prune(older_than_days=days)
