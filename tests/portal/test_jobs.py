"""The database-backed job runner: enqueue, claim, retry with backoff, fail, schedules."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from portal.jobs import jobs_queue_depth, periodic, task
from portal.jobs import services as job_services
from portal.jobs import worker as worker_module
from portal.jobs.schedules import schedules_fire_due, schedules_sync
from portal.jobs.testing import run_pending_jobs
from portal.jobs.worker import Worker
from portal.models import Job, JobSchedule

pytestmark = pytest.mark.django_db

CALLS: list[dict] = []
CALLS_LOCK = threading.Lock()


@task(name="tests.jobs.record", max_attempts=3)
def record(*, value: int) -> dict:
    with CALLS_LOCK:
        CALLS.append({"value": value})
    return {"doubled": value * 2}


@task(name="tests.jobs.explode", max_attempts=3, backoff_seconds=60)
def explode(*, why: str) -> None:
    raise RuntimeError(f"boom: {why}")


@periodic(every=timedelta(minutes=10), name="tests.jobs.tick")
def tick() -> str:
    return "ticked"


def fire_tick(now):
    """Fire due schedules; keep only this module's schedule (other apps declare their own)."""
    return schedules_fire_due(now=now, names={"tests.jobs.tick"})


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def test_enqueued_job_runs_and_records_its_result():
    job_id = record.enqueue(value=21)
    job = Job.objects.get(pk=job_id)
    assert (job.name, job.args, job.status) == ("tests.jobs.record", {"value": 21}, "queued")

    done = run_pending_jobs()

    assert [j.pk for j in done] == [job_id]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result == {"doubled": 42}
    assert job.attempts == 1
    assert job.finished_at is not None and job.locked_until is None
    assert CALLS == [{"value": 21}]


def test_enqueue_in_a_rolled_back_transaction_enqueues_nothing():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        record.enqueue(value=1)
        raise Abort

    assert not Job.objects.exists()
    assert run_pending_jobs() == []


def test_arguments_that_are_not_json_are_refused_at_enqueue():
    with pytest.raises(TypeError, match="JSON-serialisable"):
        record.enqueue(value=object())
    assert not Job.objects.exists()


def test_unique_key_keeps_one_active_job_per_key():
    first = record.enqueue(value=1, _unique_key="sync:docs")
    second = record.enqueue(value=2, _unique_key="sync:docs")
    assert first == second
    assert Job.objects.count() == 1

    run_pending_jobs()
    third = record.enqueue(value=3, _unique_key="sync:docs")
    assert third != first
    assert Job.objects.count() == 2


def test_higher_priority_runs_first_and_future_jobs_wait():
    low = record.enqueue(value=1)
    later = record.enqueue(value=2, _run_after=timezone.now() + timedelta(hours=1))
    high = record.enqueue(value=3, _priority=5)

    done = run_pending_jobs()

    assert [j.pk for j in done] == [high, low]
    assert Job.objects.get(pk=later).status == Job.Status.QUEUED


def test_failing_job_is_retried_with_backoff_then_failed_with_its_error():
    job_id = explode.enqueue(why="disk full")
    before = timezone.now()

    run_pending_jobs()
    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.QUEUED
    assert job.attempts == 1
    # First retry: base 60 s with jitter in [30, 60] s.
    assert before + timedelta(seconds=29) < job.run_after < before + timedelta(seconds=61)
    assert job.last_error.startswith("RuntimeError: boom: disk full")
    assert "Traceback" in job.last_error and "def explode" not in job.last_error
    assert "in explode" in job.last_error

    # Not due yet: nothing runs.
    assert run_pending_jobs() == []

    for expected_attempts in (2, 3):
        Job.objects.filter(pk=job_id).update(run_after=timezone.now())
        run_pending_jobs()
        job.refresh_from_db()
        assert job.attempts == expected_attempts

    assert job.status == Job.Status.FAILED
    assert job.finished_at is not None
    assert "RuntimeError: boom: disk full" in job.last_error
    # Exhausted: never picked up again.
    Job.objects.filter(pk=job_id).update(run_after=timezone.now())
    assert run_pending_jobs() == []


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    for attempt, full in [(1, 10), (2, 20), (3, 40), (12, 3600)]:
        delays = [job_services.backoff_delay(base_seconds=10, attempt=attempt) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 1


def test_unknown_task_name_fails_at_once_with_a_clear_error():
    job = Job.objects.create(name="nobody.registered.this", args={}, max_attempts=5)

    run_pending_jobs()

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.attempts == 1
    assert "no task is registered under 'nobody.registered.this'" in job.last_error


def test_job_whose_lease_expired_is_claimed_again_with_the_attempt_counted():
    job_id = record.enqueue(value=7)
    claimed = job_services.job_claim(worker_id="dead-worker", lease=30)
    assert claimed is not None and claimed.pk == job_id and claimed.attempts == 1
    # Still leased: nobody else can take it.
    assert job_services.job_claim(worker_id="other", lease=30) is None

    Job.objects.filter(pk=job_id).update(locked_until=timezone.now() - timedelta(seconds=1))
    done = run_pending_jobs()

    assert [j.pk for j in done] == [job_id]
    job = done[0]
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert CALLS == [{"value": 7}]


def test_lost_lease_on_the_last_attempt_marks_the_job_failed():
    job_id = record.enqueue(value=7)
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.RUNNING,
        attempts=3,
        locked_by="dead-worker",
        locked_until=timezone.now() - timedelta(seconds=1),
    )

    assert run_pending_jobs() == []

    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.FAILED
    assert "lease expired: worker dead-worker" in job.last_error
    assert CALLS == []


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_outcome():
    record.enqueue(value=1)
    job = job_services.job_claim(worker_id="slow", lease=30)
    assert job is not None
    Job.objects.filter(pk=job.pk).update(locked_by="someone-else")

    assert not job_services.job_heartbeat(job_id=job.pk, worker_id="slow")
    assert not job_services.job_succeed(job=job, worker_id="slow", result=1)
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING


def test_heartbeat_extends_the_lease():
    record.enqueue(value=1)
    job = job_services.job_claim(worker_id="w", lease=10)
    assert job is not None and job.locked_until is not None
    assert job_services.job_heartbeat(job_id=job.pk, worker_id="w", lease=600)
    job.refresh_from_db()
    assert job.locked_until > timezone.now() + timedelta(seconds=500)


def test_release_puts_the_job_back_without_counting_the_attempt():
    job_id = record.enqueue(value=1)
    worker = Worker(worker_id="w1", fire_schedules=False)
    job = job_services.job_claim(worker_id="w1")
    assert job is not None
    worker.current_job_id = job.pk

    assert worker.release_current()

    job.refresh_from_db()
    assert (job.status, job.attempts, job.locked_by) == (Job.Status.QUEUED, 0, "")
    assert [j.pk for j in run_pending_jobs()] == [job_id]


def test_periodic_schedule_fires_once_per_interval():
    t0 = timezone.now()
    schedules_sync(now=t0)
    schedule = JobSchedule.objects.get(name="tests.jobs.tick")
    assert schedule.interval_seconds == 600 and schedule.next_run_at == t0

    first = fire_tick(t0)
    assert len(first) == 1
    assert fire_tick(t0) == []
    assert fire_tick(t0 + timedelta(minutes=9)) == []
    run_pending_jobs()
    assert Job.objects.get(pk=first[0]).result == "ticked"

    second = fire_tick(t0 + timedelta(minutes=10))
    assert len(second) == 1 and second != first
    schedule.refresh_from_db()
    assert schedule.next_run_at == t0 + timedelta(minutes=20)
    assert schedule.last_run_at == t0 + timedelta(minutes=10)


def test_periodic_run_still_queued_is_not_doubled_by_the_next_interval():
    t0 = timezone.now()
    schedules_sync(now=t0)
    fire_tick(t0)
    fire_tick(t0 + timedelta(minutes=10))
    assert Job.objects.filter(name="tests.jobs.tick").count() == 1


def test_changed_interval_in_code_is_applied_to_the_schedule():
    t0 = timezone.now()
    schedules_sync(now=t0)
    JobSchedule.objects.filter(name="tests.jobs.tick").update(
        interval_seconds=86400, next_run_at=t0 + timedelta(days=1)
    )

    schedules_sync(now=t0)

    schedule = JobSchedule.objects.get(name="tests.jobs.tick")
    assert schedule.interval_seconds == 600
    assert schedule.next_run_at == t0 + timedelta(minutes=10)


def test_disabled_schedule_does_not_fire():
    t0 = timezone.now()
    schedules_sync(now=t0)
    JobSchedule.objects.filter(name="tests.jobs.tick").update(enabled=False)
    assert fire_tick(t0 + timedelta(hours=1)) == []


def test_prune_deletes_only_old_finished_jobs():
    now = timezone.now()
    old_done = Job.objects.create(
        name="x", status=Job.Status.SUCCEEDED, finished_at=now - timedelta(days=30)
    )
    old_failed = Job.objects.create(
        name="x", status=Job.Status.FAILED, finished_at=now - timedelta(days=30)
    )
    recent = Job.objects.create(
        name="x", status=Job.Status.SUCCEEDED, finished_at=now - timedelta(days=1)
    )
    queued = Job.objects.create(name="x", created_at=now - timedelta(days=60))

    assert job_services.jobs_prune(older_than_days=14) == 2

    left = set(Job.objects.values_list("pk", flat=True))
    assert left == {recent.pk, queued.pk}
    assert old_done.pk not in left and old_failed.pk not in left


def test_prune_is_a_registered_periodic_job(settings):
    settings.JOBS_RETENTION_DAYS = 3
    Job.objects.create(
        name="x", status=Job.Status.SUCCEEDED, finished_at=timezone.now() - timedelta(days=4)
    )
    from portal.jobs.registry import jobs_autodiscover, periodics_registered

    jobs_autodiscover()
    assert periodics_registered()["jobs.prune"].every == timedelta(hours=6)
    schedules_sync()
    (job_id,) = schedules_fire_due(names={"jobs.prune"})
    assert [j.pk for j in run_pending_jobs()] == [job_id]
    assert Job.objects.get(pk=job_id).result == 1


def test_queue_depth_counts_queued_running_and_failed():
    record.enqueue(value=1)
    record.enqueue(value=2, _run_after=timezone.now() + timedelta(hours=1))
    Job.objects.create(name="x", status=Job.Status.RUNNING)
    Job.objects.create(name="x", status=Job.Status.FAILED)
    Job.objects.create(name="x", status=Job.Status.SUCCEEDED)

    assert jobs_queue_depth() == {"queued": 2, "running": 1, "failed": 1}


def test_oldest_due_age_ignores_jobs_scheduled_later():
    now = timezone.now()
    assert job_services.jobs_oldest_due_age(now=now) == 0.0
    record.enqueue(value=1, _run_after=now + timedelta(hours=1))
    record.enqueue(value=2, _run_after=now - timedelta(seconds=90))
    record.enqueue(value=3, _run_after=now - timedelta(seconds=30))
    assert job_services.jobs_oldest_due_age(now=now) == 90.0


@pytest.mark.django_db(transaction=True)
def test_worker_command_in_burst_mode_drains_the_queue_and_exits():
    ids = [record.enqueue(value=i) for i in range(5)]
    boom = explode.enqueue(why="x")

    call_command("worker", "--burst", "--concurrency", "2", "--no-schedules")

    statuses = dict(Job.objects.filter(pk__in=[*ids, boom]).values_list("pk", "status"))
    assert all(statuses[i] == Job.Status.SUCCEEDED for i in ids)
    assert statuses[boom] == Job.Status.QUEUED  # retried later, after its backoff
    assert sorted(c["value"] for c in CALLS) == [0, 1, 2, 3, 4]


@pytest.mark.django_db(transaction=True)
def test_worker_without_schedules_leaves_periodic_jobs_alone():
    job_id = record.enqueue(value=5)
    call_command("worker", "--burst", "--no-schedules")
    assert not JobSchedule.objects.exists()
    assert list(Job.objects.values_list("pk", "status")) == [(job_id, "succeeded")]


def test_outcome_is_recorded_through_a_short_database_error(monkeypatch):
    from django.db import OperationalError

    real_succeed = job_services.job_succeed
    calls = []

    def flaky_succeed(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_succeed(**kwargs)

    monkeypatch.setattr(worker_module.services, "job_succeed", flaky_succeed)
    monkeypatch.setattr(worker_module.time, "sleep", lambda s: None)
    job_id = record.enqueue(value=3)

    run_pending_jobs()

    assert len(calls) == 2
    assert Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED


def test_sys_exit_in_a_task_is_a_recorded_failure():
    @task(name="tests.jobs.exits", max_attempts=1)
    def exits() -> None:
        raise SystemExit(3)

    job_id = exits.enqueue()
    run_pending_jobs()
    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.FAILED
    assert job.last_error.startswith("SystemExit: 3")


@pytest.mark.django_db(transaction=True)
def test_burst_run_that_cannot_reach_the_database_exits_with_an_error(monkeypatch):
    from django.db import OperationalError

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(job_services, "job_claim", down)
    monkeypatch.setattr(worker_module, "BURST_MAX_ERRORS", 2)
    with pytest.raises(CommandError) as excinfo:
        call_command("worker", "--burst", "--no-schedules")
    assert excinfo.value.returncode == 2
