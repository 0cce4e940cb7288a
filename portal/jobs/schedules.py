"""Periodic schedules shared by every worker through ``JobSchedule`` rows."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from portal.jobs.registry import periodics_registered, task_get
from portal.models.jobs import JobSchedule

logger = logging.getLogger("agora.jobs")


def schedules_sync(*, now: datetime | None = None) -> None:
    """Create rows for schedules declared in code; follow interval changes."""
    now = now or timezone.now()
    for spec in periodics_registered().values():
        schedule, created = JobSchedule.objects.get_or_create(
            name=spec.name,
            defaults={"interval_seconds": spec.interval_seconds, "next_run_at": now},
        )
        if not created and schedule.interval_seconds != spec.interval_seconds:
            next_run_at = min(schedule.next_run_at, now + spec.every)
            JobSchedule.objects.filter(name=spec.name).update(
                interval_seconds=spec.interval_seconds, next_run_at=next_run_at
            )


def schedules_fire_due(
    *, now: datetime | None = None, names: Collection[str] | None = None
) -> list[int]:
    """Enqueue one job for every due schedule (or only ``names``); returns the job ids.

    Each schedule is claimed with an UPDATE conditioned on the ``next_run_at`` that was
    read, so when several workers look at once exactly one of them fires it. The claim
    and the enqueue commit together.
    """
    now = now or timezone.now()
    declared = periodics_registered()
    wanted = [n for n in declared if names is None or n in names]
    fired: list[int] = []
    due = JobSchedule.objects.filter(enabled=True, next_run_at__lte=now, name__in=wanted)
    for schedule in due:
        task_obj = task_get(schedule.name)
        if task_obj is None:
            continue
        interval = timedelta(seconds=schedule.interval_seconds)
        next_run_at = schedule.next_run_at + interval
        if next_run_at <= now:  # missed intervals (no worker running) are not replayed
            next_run_at = now + interval
        with transaction.atomic():
            claimed = JobSchedule.objects.filter(
                name=schedule.name, next_run_at=schedule.next_run_at, enabled=True
            ).update(next_run_at=next_run_at, last_run_at=now)
            if claimed != 1:
                continue
            # The unique key keeps a slow run from overlapping the next one.
            fired.append(task_obj.enqueue(_unique_key=f"periodic:{schedule.name}"))
        logger.info("periodic %s enqueued; next at %s", schedule.name, next_run_at.isoformat())
    return fired
