"""Helpers for tests: run queued jobs synchronously, in this thread and transaction."""

from __future__ import annotations

from portal.jobs.worker import Worker
from portal.models.jobs import Job


def run_pending_jobs(*, max_jobs: int = 1000) -> list[Job]:
    """Run every job that is due now (and jobs those jobs enqueue), one after another.

    Jobs that fail and are re-queued with a backoff are not due yet, so each runs once
    here; call again after moving ``run_after`` to exercise a retry. Returns the jobs run,
    refreshed (status, result, last_error).
    """
    worker = Worker(worker_id="test-runner", fire_schedules=False)
    done: list[Job] = []
    while len(done) < max_jobs:
        job = worker.run_one()
        if job is None:
            break
        done.append(job)
    return done
