"""Durable, database-backed background jobs.

    from portal.jobs import task, periodic

    @task(name="app.thing", max_attempts=5)
    def thing(*, item_id: int) -> None: ...

    thing.enqueue(item_id=3)           # inside the caller's transaction; returns the Job id

    @periodic(every=timedelta(minutes=5), name="app.tick")
    def tick() -> None: ...

Workers (``manage.py worker``) import every installed app's ``tasks`` module. Tests run
queued jobs with ``portal.jobs.testing.run_pending_jobs()``.
"""

from __future__ import annotations

from portal.jobs.registry import (
    Periodic,
    Task,
    jobs_autodiscover,
    periodic,
    periodics_registered,
    task,
    task_get,
    tasks_registered,
)
from portal.jobs.services import jobs_oldest_due_age, jobs_queue_depth

__all__ = [
    "Periodic",
    "Task",
    "jobs_autodiscover",
    "jobs_oldest_due_age",
    "jobs_queue_depth",
    "periodic",
    "periodics_registered",
    "task",
    "task_get",
    "tasks_registered",
]
