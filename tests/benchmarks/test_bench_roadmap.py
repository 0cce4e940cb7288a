"""Roadmap benchmarks (`make bench`), each printing its figures.

1. Board page, a column's "show more" page and ``/api/v1/tasks/?milestone=…`` with
   5,000 tasks in the milestone:
   p50/p95 over 40 requests each (target p95 < 100 ms), and the number of queries, which
   must be the same with 500 and with 5,000 tasks. Requests go through Django's handler in
   this process (no HTTP server), so the figures are view + ORM + template time.
2. Import of 50,000 JSON Lines tasks (target < 30 s), against a bare ``bulk_create`` of the
   same rows measured in the same run.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community.roadmap.jsonl import tasks_import
from community.roadmap.models import Milestone, Task, TaskDependency, TaskStatus
from tests.benchmarks.conftest import percentile
from tests.factories import UserFactory

N_BOARD = 5_000
N_SMALL = 500
N_IMPORT = 50_000
ROUNDS = 40
KEYS = {"Small": "SML", "Big": "BIG"}
STATUSES = [s.value for s in TaskStatus if s != TaskStatus.CANCELLED]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _fill(milestone: Milestone, *, key: str, count: int, owner: object) -> None:
    now = timezone.now()
    Task.objects.bulk_create(
        [
            Task(
                key=key,
                number=n,
                code=Task.code_for(key, n),
                title=f"Task {n} of the benchmark milestone",
                status=STATUSES[n % len(STATUSES)],
                estimate_days=Decimal(n % 5 + 1),
                labels=["bench", f"l{n % 7}"],
                label_index=f"|bench|l{n % 7}|",
                milestone=milestone,
                owner=owner,  # type: ignore[misc]
                position=n,
                created_at=now,
                updated_at=now,
            )
            for n in range(1, count + 1)
        ],
        batch_size=2000,
    )
    ids = list(Task.objects.filter(key=key).order_by("number").values_list("pk", flat=True))
    TaskDependency.objects.bulk_create(
        [TaskDependency(task_id=ids[i], depends_on_id=ids[i - 1]) for i in range(1, len(ids), 3)],
        batch_size=2000,
    )


def _measure(client: Client, url: str) -> tuple[list[float], int]:
    client.get(url)  # warm up
    timings = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return timings, len(ctx.captured_queries)


@pytest.mark.django_db
def test_board_and_task_list_with_5000_tasks() -> None:
    user = UserFactory(role="maintainer")
    client = Client()
    client.force_login(user)
    small = Milestone.objects.create(name="Small")
    big = Milestone.objects.create(name="Big")
    _fill(small, key=KEYS["Small"], count=N_SMALL, owner=user)
    _fill(big, key=KEYS["Big"], count=N_BOARD, owner=user)

    urls: dict[str, Callable[[Milestone], str]] = {
        "board page": lambda m: f"/roadmap/?milestone={m.pk}",
        "GET /api/v1/tasks/?milestone=": lambda m: f"/api/v1/tasks/?milestone={m.pk}",
        # A column's "show more" page from the middle of the column (keyset cursor).
        "board column, show more": lambda m: (
            f"/roadmap/column/?status=todo&milestone={m.pk}&after=100.{KEYS[m.name]}.100"
        ),
    }
    print(
        f"\nroadmap, {N_BOARD:,} tasks in one milestone ({ROUNDS} requests each, in-process; "
        f"{_load()}):"
    )
    slow = []
    for name, url in urls.items():
        _, small_queries = _measure(client, url(small))
        timings, queries = _measure(client, url(big))
        p50, p95 = percentile(timings, 0.5) * 1000, percentile(timings, 0.95) * 1000
        print(
            f"  {name:<32} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  (target p95 < 100 ms)  "
            f"queries {queries} with {N_BOARD:,} tasks, {small_queries} with {N_SMALL}"
        )
        assert queries == small_queries, f"{name}: query count grows with the number of tasks"
        if p95 >= 100:
            slow.append(name)
    print(f"  ({_load()})")
    assert not slow, f"over the p95 target: {slow}"


def _lines(count: int, owner: str) -> list[str]:
    lines = []
    for n in range(1, count + 1):
        lines.append(
            json.dumps(
                {
                    "id": f"IMP-{n:05d}",
                    "title": f"Imported task {n}",
                    "status": STATUSES[n % len(STATUSES)],
                    "owner": owner if n % 2 else None,
                    "estimate_days": (n % 8) / 2,
                    "milestone": f"Phase {n % 5}",
                    "depends_on": [f"IMP-{n - 1:05d}"] if n % 4 == 0 else [],
                    "labels": ["ops"] if n % 3 else ["docs", "ops"],
                    "created": "2026-01-01T09:00:00Z",
                    "updated": "2026-01-02T09:00:00Z",
                }
            )
        )
    return lines


@pytest.mark.django_db
def test_import_50000_jsonl_tasks() -> None:
    user = UserFactory(role="maintainer", username="bench-owner")
    lines = _lines(N_IMPORT, user.username)

    # Baseline in the same run: the rows alone, straight into the table.
    now = timezone.now()
    start = time.perf_counter()
    Task.objects.bulk_create(
        [
            Task(
                key="BAS",
                number=n,
                code=f"BAS-{n:05d}",
                title=f"t{n}",
                created_at=now,
                updated_at=now,
            )
            for n in range(1, N_IMPORT + 1)
        ],
        batch_size=2000,
    )
    baseline = time.perf_counter() - start
    Task.objects.filter(key="BAS").delete()

    start = time.perf_counter()
    report = tasks_import(actor=user, lines=lines)
    elapsed = time.perf_counter() - start
    assert report.created == N_IMPORT and report.rejected == []

    start = time.perf_counter()
    again = tasks_import(actor=user, lines=lines)
    rerun = time.perf_counter() - start
    assert again.unchanged == N_IMPORT

    print(
        f"\nroadmap import, {N_IMPORT:,} JSON Lines tasks: {elapsed:.1f} s "
        f"({N_IMPORT / elapsed:,.0f} tasks/s; target < 30 s); idempotent re-run {rerun:.1f} s; "
        f"bare bulk_create of the rows {baseline:.1f} s (x{elapsed / baseline:.1f}); {_load()}"
    )
    assert elapsed < 30
