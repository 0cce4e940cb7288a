"""Writes and reads on the job queue shared by web processes and workers."""

from __future__ import annotations

import json
import logging
import random
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from portal.models.jobs import Job

logger = logging.getLogger("agora.jobs")

MAX_BACKOFF_SECONDS = 3600.0
ERROR_TAIL_CHARS = 4000
ACTIVE = (Job.Status.QUEUED, Job.Status.RUNNING)


def lease_seconds() -> int:
    return int(getattr(settings, "JOBS_LEASE_SECONDS", 300))


def job_enqueue(
    *,
    name: str,
    args: dict[str, Any],
    max_attempts: int,
    run_after: datetime | None = None,
    unique_key: str | None = None,
    priority: int = 0,
) -> int:
    """Insert a queued job inside the caller's transaction (a rollback enqueues nothing).

    Arguments must survive a JSON round trip unchanged in kind; anything else is refused
    here rather than failing later in a worker.
    """
    try:
        args = json.loads(json.dumps(args))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"job {name!r}: arguments must be JSON-serialisable ({exc})") from exc
    job = Job(
        name=name,
        args=args,
        max_attempts=max_attempts,
        run_after=run_after or timezone.now(),
        unique_key=unique_key,
        priority=priority,
    )
    if unique_key is None:
        job.save(force_insert=True)
        return job.pk
    try:
        # A savepoint, so a duplicate key leaves the caller's transaction usable.
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:
        existing = (
            Job.objects.filter(unique_key=unique_key, status__in=ACTIVE)
            .values_list("pk", flat=True)
            .first()
        )
        if existing is None:  # the other job finished in between: try once more
            with transaction.atomic():
                job.pk = None
                job.save(force_insert=True)
            return job.pk
        return existing
    return job.pk


def _ready_filter(now: datetime) -> Q:
    # Due queued jobs, and running jobs whose worker stopped renewing its lease.
    return Q(status=Job.Status.QUEUED, run_after__lte=now) | Q(
        status=Job.Status.RUNNING, locked_until__lt=now
    )


def job_claim(
    *, worker_id: str, lease: int | None = None, now: datetime | None = None
) -> Job | None:
    """Take the next ready job for ``worker_id`` under a lease, or ``None`` if there is none.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers pass over each
    other's candidates. Everywhere: the claim itself is an UPDATE conditioned on the state
    that was read, so two workers can never both win the same row.
    """
    lease = lease or lease_seconds()
    for _ in range(10):
        now = now or timezone.now()
        ready = Job.objects.filter(_ready_filter(now))
        # A cheap read first: on SQLite every write transaction takes the database lock.
        if not ready.exists():
            return None
        with transaction.atomic():
            candidates = ready.order_by("-priority", "run_after", "id")
            if connection.vendor == "postgresql":
                candidates = candidates.select_for_update(skip_locked=True)
            job = candidates.first()
            if job is None:
                return None
            same_state = Job.objects.filter(
                pk=job.pk, status=job.status, attempts=job.attempts, locked_until=job.locked_until
            )
            lost = job.status == Job.Status.RUNNING
            lost_note = (
                f"lease expired: worker {job.locked_by or '?'} "
                f"stopped during attempt {job.attempts}"
            )
            if lost and job.attempts >= job.max_attempts:
                same_state.update(
                    status=Job.Status.FAILED,
                    finished_at=now,
                    locked_by="",
                    locked_until=None,
                    last_error=f"{lost_note}; no attempts left ({job.attempts}/{job.max_attempts})",
                )
                logger.warning("job %s#%s failed: worker lost on last attempt", job.name, job.pk)
                continue
            updates: dict[str, Any] = {
                "status": Job.Status.RUNNING,
                "locked_by": worker_id,
                "locked_until": now + timedelta(seconds=lease),
                "attempts": F("attempts") + 1,
                "started_at": now,
            }
            if lost:
                updates["last_error"] = lost_note
            if same_state.update(**updates) == 1:
                job.refresh_from_db()
                return job
        now = None  # lost a race; look again
    return None


def job_heartbeat(*, job_id: int, worker_id: str, lease: int | None = None) -> bool:
    """Extend the lease of a job this worker still holds; False if it was lost."""
    lease = lease or lease_seconds()
    return (
        Job.objects.filter(pk=job_id, locked_by=worker_id, status=Job.Status.RUNNING).update(
            locked_until=timezone.now() + timedelta(seconds=lease)
        )
        == 1
    )


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return repr(value)


def job_succeed(*, job: Job, worker_id: str, result: Any = None) -> bool:
    """Record success; False (and nothing written) when the lease had been lost."""
    return (
        Job.objects.filter(pk=job.pk, locked_by=worker_id, status=Job.Status.RUNNING).update(
            status=Job.Status.SUCCEEDED,
            result=_jsonable(result),
            finished_at=timezone.now(),
            locked_by="",
            locked_until=None,
            last_error="",
        )
        == 1
    )


def error_describe(exc: BaseException) -> str:
    """``Type: message`` followed by the tail of the traceback."""
    head = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}".removeprefix("builtins.")
    tb = "".join(traceback.format_exception(exc))
    if len(tb) > ERROR_TAIL_CHARS:
        tb = "…" + tb[-ERROR_TAIL_CHARS:]
    return f"{head}\n\n{tb}"


def backoff_delay(*, base_seconds: float, attempt: int) -> float:
    """Exponential backoff with jitter: a random delay in [d/2, d], d = base * 2**(attempt-1)."""
    full = min(MAX_BACKOFF_SECONDS, base_seconds * (2 ** max(0, attempt - 1)))
    return full / 2 + random.uniform(0, full / 2)


def job_fail(
    *, job: Job, worker_id: str, error: str, backoff_seconds: float, retry: bool = True
) -> str | None:
    """Record a failed attempt: re-queue with backoff, or mark failed when out of attempts.

    Returns the new status, or ``None`` when the lease had been lost.
    """
    now = timezone.now()
    held = Job.objects.filter(pk=job.pk, locked_by=worker_id, status=Job.Status.RUNNING)
    if retry and job.attempts < job.max_attempts:
        delay = backoff_delay(base_seconds=backoff_seconds, attempt=job.attempts)
        updated = held.update(
            status=Job.Status.QUEUED,
            run_after=now + timedelta(seconds=delay),
            locked_by="",
            locked_until=None,
            last_error=error,
        )
        status = Job.Status.QUEUED
    else:
        updated = held.update(
            status=Job.Status.FAILED,
            finished_at=now,
            locked_by="",
            locked_until=None,
            last_error=error,
        )
        status = Job.Status.FAILED
    return status if updated == 1 else None


def job_release(*, job_id: int, worker_id: str) -> bool:
    """Give a job back untouched (worker shutting down): queued again, attempt not counted."""
    return (
        Job.objects.filter(pk=job_id, locked_by=worker_id, status=Job.Status.RUNNING).update(
            status=Job.Status.QUEUED,
            locked_by="",
            locked_until=None,
            run_after=timezone.now(),
            attempts=F("attempts") - 1,
        )
        == 1
    )


def jobs_prune(*, older_than_days: int, now: datetime | None = None) -> int:
    """Delete finished jobs (succeeded, failed, cancelled) that finished before the cutoff."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    deleted, _ = Job.objects.filter(
        status__in=[Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED],
        finished_at__lt=cutoff,
    ).delete()
    return deleted


def jobs_queue_depth() -> dict[str, int]:
    """Counts for metrics and the HUD: queued (incl. scheduled later), running, failed."""
    wanted = [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.FAILED]
    counts = dict.fromkeys((s.value for s in wanted), 0)
    for row in Job.objects.filter(status__in=wanted).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def jobs_oldest_due_age(*, now: datetime | None = None) -> float:
    """Seconds the longest-waiting due job has been waiting (0 when none): workers keeping up?"""
    now = now or timezone.now()
    oldest = (
        Job.objects.filter(status=Job.Status.QUEUED, run_after__lte=now)
        .order_by("run_after")
        .values_list("run_after", flat=True)
        .first()
    )
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
