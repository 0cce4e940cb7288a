"""The worker loop: claim a job, run it under a renewed lease, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, close_old_connections, connections

from portal.jobs import services
from portal.jobs.registry import jobs_autodiscover, task_get
from portal.jobs.schedules import schedules_fire_due, schedules_sync
from portal.models.jobs import Job

logger = logging.getLogger("agora.jobs")

SCHEDULE_CHECK_SECONDS = 1.0
BURST_MAX_ERRORS = 5
T = TypeVar("T")


def worker_id_make(suffix: str = "") -> str:
    base = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    return f"{base}:{suffix}" if suffix else base


class _Heartbeat(threading.Thread):
    """Renews a running job's lease every third of the lease, on its own DB connection."""

    def __init__(self, *, job_id: int, worker_id: str, lease: int) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id = job_id
        self.worker_id = worker_id
        self.lease = lease
        self.lost = False
        self._stop_event = threading.Event()

    def run(self) -> None:
        used_db = False
        try:
            while not self._stop_event.wait(self.lease / 3):
                used_db = True
                try:
                    if not services.job_heartbeat(
                        job_id=self.job_id, worker_id=self.worker_id, lease=self.lease
                    ):
                        self.lost = True
                        logger.warning("job #%s: lease lost by %s", self.job_id, self.worker_id)
                        return
                except Exception:
                    # A database blip: keep trying until the lease itself runs out.
                    logger.exception("job #%s: heartbeat failed", self.job_id)
        finally:
            if used_db:
                connections.close_all()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def _with_retries(write: Callable[[], T], *, what: str, attempts: int = 5) -> T:
    """Record an outcome, riding out short database hiccups (a locked SQLite file,
    a failover): losing the write would mean running the job again after its lease."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except OperationalError:
            if attempt == attempts:
                raise
            logger.warning("%s: database error, retrying (%d/%d)", what, attempt, attempts)
            if not connections["default"].in_atomic_block:
                close_old_connections()  # reconnect if the connection died
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


class Worker:
    """Runs jobs one at a time; a process runs several of these in threads for concurrency."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        lease: int | None = None,
        poll_interval: float | None = None,
        stop_event: threading.Event | None = None,
        fire_schedules: bool = True,
    ) -> None:
        jobs_autodiscover()
        self.worker_id = worker_id or worker_id_make()
        self.lease = lease or services.lease_seconds()
        self.poll_interval = (
            poll_interval if poll_interval is not None else float(settings.JOBS_POLL_INTERVAL)
        )
        self.stop_event = stop_event or threading.Event()
        self.fire_schedules = fire_schedules
        self.current_job_id: int | None = None
        self._last_schedule_check = 0.0

    def run_one(self) -> Job | None:
        """Claim and run one ready job; returns it (refreshed) or ``None`` if none was ready."""
        job = services.job_claim(worker_id=self.worker_id, lease=self.lease)
        if job is None:
            return None
        self.current_job_id = job.pk
        try:
            self._execute(job)
        finally:
            self.current_job_id = None
        job.refresh_from_db()
        return job

    def _execute(self, job: Job) -> None:
        task_obj = task_get(job.name)
        if task_obj is None:
            services.job_fail(
                job=job,
                worker_id=self.worker_id,
                backoff_seconds=0,
                retry=False,
                error=(
                    f"UnknownTask: no task is registered under {job.name!r} in this worker "
                    "(is it defined in an installed app's tasks.py?)"
                ),
            )
            logger.error("job %s#%s failed: unknown task", job.name, job.pk)
            return
        heartbeat = _Heartbeat(job_id=job.pk, worker_id=self.worker_id, lease=self.lease)
        heartbeat.start()
        started = time.perf_counter()
        try:
            result: Any = task_obj.fn(**job.args)
        except (Exception, SystemExit) as exc:  # sys.exit() in a task must not kill the thread
            heartbeat.stop()
            error = services.error_describe(exc)
            status = _with_retries(
                lambda: services.job_fail(
                    job=job,
                    worker_id=self.worker_id,
                    error=error,
                    backoff_seconds=task_obj.backoff_seconds,
                ),
                what=f"job #{job.pk} failure",
            )
            logger.warning(
                "job %s#%s attempt %s/%s raised %s: %s → %s",
                job.name,
                job.pk,
                job.attempts,
                job.max_attempts,
                type(exc).__name__,
                exc,
                status or "lease lost",
                extra={"job_id": job.pk, "job_name": job.name},
            )
            return
        heartbeat.stop()
        ok = _with_retries(
            lambda: services.job_succeed(job=job, worker_id=self.worker_id, result=result),
            what=f"job #{job.pk} success",
        )
        logger.info(
            "job %s#%s %s in %.0f ms",
            job.name,
            job.pk,
            "succeeded" if ok else "finished after its lease was lost",
            (time.perf_counter() - started) * 1000,
            extra={"job_id": job.pk, "job_name": job.name},
        )

    def _maybe_fire_schedules(self) -> None:
        if not self.fire_schedules:
            return
        now = time.monotonic()
        if now - self._last_schedule_check < SCHEDULE_CHECK_SECONDS:
            return
        self._last_schedule_check = now
        schedules_fire_due()

    def run(self, *, burst: bool = False) -> int:
        """Loop until stopped (or, in burst mode, until nothing is ready). Returns jobs run."""
        ran = 0
        errors_in_a_row = 0
        if self.fire_schedules:
            schedules_sync()
        try:
            while not self.stop_event.is_set():
                close_old_connections()
                try:
                    self._maybe_fire_schedules()
                    job = self.run_one()
                except Exception:
                    # A locked or unreachable database: back off and try again (a burst
                    # run gives up after a few errors in a row and reports it).
                    logger.exception("worker %s: loop error", self.worker_id)
                    errors_in_a_row += 1
                    if burst and errors_in_a_row >= BURST_MAX_ERRORS:
                        raise
                    self.stop_event.wait(min(5.0, 0.2 * 2**errors_in_a_row))
                    continue
                errors_in_a_row = 0
                if job is not None:
                    ran += 1
                    continue
                if burst:
                    break
                self.stop_event.wait(self.poll_interval)
        finally:
            connections.close_all()
        return ran

    def release_current(self) -> bool:
        """Give the running job back to the queue (used when shutting down hard)."""
        job_id = self.current_job_id
        if job_id is None:
            return False
        return services.job_release(job_id=job_id, worker_id=self.worker_id)
