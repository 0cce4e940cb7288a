"""`manage.py worker` as a real process: a SIGKILLed worker's job is re-run by another,
and SIGTERM lets the current job finish (or gives it back after the grace period).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from portal.jobs import task
from portal.models import Job

ROOT = Path(__file__).resolve().parents[2]
THIS_MODULE = "tests.portal.test_jobs_worker_process"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="a worker subprocess needs a database it can share (PostgreSQL)",
    ),
]


@task(name="tests.worker_process.hang_first_time", max_attempts=3, backoff_seconds=0)
def hang_first_time(*, marker: str, hang: float = 120.0) -> str:
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        time.sleep(hang)
    return f"done by {os.getpid()}"


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        JOBS_LEASE_SECONDS="5",
        JOBS_POLL_INTERVAL_MS="100",
        AGORA_TESTING="1",
        LOG_JSON="0",
    )
    return env


def start_worker(log: Path, *extra: str) -> subprocess.Popen[bytes]:
    # Other apps' periodic jobs would compete for the single job slot: --no-schedules.
    # Output goes to a file: an unread pipe fills up and blocks the worker.
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "worker",
                "--no-schedules",
                "--import",
                THIS_MODULE,
                *extra,
            ],
            cwd=ROOT,
            env=worker_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no output)"


def wait_for(predicate, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{log_tail(log)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_job_of_a_killed_worker_is_rerun_by_another_worker(tmp_path):
    marker = tmp_path / "started"
    log = tmp_path / "worker.log"
    job_id = hang_first_time.enqueue(marker=str(marker))
    first = start_worker(log)
    try:
        wait_for(marker.exists, 60, "the first worker to start the job", log)
        first_pid = int(marker.read_text())
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)

    second = start_worker(log)
    try:
        wait_for(
            lambda: Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED,
            60,
            "the second worker to re-run the job after the lease expired",
            log,
        )
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0, log_tail(log)
    finally:
        stop(second)

    job = Job.objects.get(pk=job_id)
    assert job.attempts == 2
    assert job.result == f"done by {second.pid}"
    assert second.pid != first_pid
    assert job.last_error == ""


def test_sigterm_lets_the_running_job_finish(tmp_path):
    marker = tmp_path / "started"
    log = tmp_path / "worker.log"
    job_id = hang_first_time.enqueue(marker=str(marker), hang=1.5)
    proc = start_worker(log)
    try:
        wait_for(marker.exists, 60, "the worker to start the job", log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log_tail(log)
    finally:
        stop(proc)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 1)


def test_sigterm_past_the_grace_period_gives_the_job_back(tmp_path):
    marker = tmp_path / "started"
    log = tmp_path / "worker.log"
    job_id = hang_first_time.enqueue(marker=str(marker), hang=60)
    proc = start_worker(log, "--grace", "1")
    try:
        wait_for(marker.exists, 60, "the worker to start the job", log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 1, log_tail(log)
    finally:
        stop(proc)
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.locked_by) == (Job.Status.QUEUED, 0, "")
