"""Several workers on one PostgreSQL database: no job runs twice, schedules fire once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from portal.jobs import periodic, task
from portal.jobs.schedules import schedules_fire_due, schedules_sync
from portal.jobs.worker import Worker
from portal.models import Job

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="SKIP LOCKED and concurrent writers need PostgreSQL",
    ),
]

RUNS: list[tuple[int, str]] = []
RUNS_LOCK = threading.Lock()


@task(name="tests.jobs_concurrency.work", max_attempts=1)
def work(*, n: int) -> int:
    with RUNS_LOCK:
        RUNS.append((n, threading.current_thread().name))
    time.sleep(0.002)
    return n


@periodic(every=timedelta(minutes=5), name="tests.jobs_concurrency.tick")
def tick() -> None:
    return None


def run_in_threads(count: int, target) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = target(i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,), name=f"w{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_two_workers_never_run_the_same_job_twice():
    RUNS.clear()
    ids = [work.enqueue(n=i) for i in range(120)]

    counts = run_in_threads(
        2,
        lambda i: Worker(worker_id=f"w{i}", fire_schedules=False, poll_interval=0).run(burst=True),
    )

    ran = Counter(n for n, _ in RUNS)
    assert sorted(ran) == list(range(120))
    assert max(ran.values()) == 1
    assert sum(counts) == 120
    assert all(c > 0 for c in counts), counts  # both workers took part
    assert set(Job.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"succeeded"}
    assert set(Job.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_periodic_schedule_fires_once_per_interval_across_workers():
    t0 = timezone.now()
    schedules_sync(now=t0)
    fired_per_interval = []
    for k in range(3):
        now = t0 + timedelta(minutes=5 * k)
        results = run_in_threads(
            2, lambda i, now=now: schedules_fire_due(now=now, names={"tests.jobs_concurrency.tick"})
        )
        ids = [pk for result in results for pk in result]
        mine = list(Job.objects.filter(pk__in=ids, name="tests.jobs_concurrency.tick"))
        fired_per_interval.append(len(mine))
        Job.objects.filter(pk__in=ids).update(status=Job.Status.SUCCEEDED)

    assert fired_per_interval == [1, 1, 1]
    assert Job.objects.filter(name="tests.jobs_concurrency.tick").count() == 3
