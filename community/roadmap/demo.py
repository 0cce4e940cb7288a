"""Demo data: one milestone with a few tasks (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from community.roadmap.models import Milestone, MilestoneStatus, Task, TaskDependency, TaskStatus
from community.roadmap.services import task_number_next

DEMO_MILESTONE = "Phase 1: foundations"
DEMO_TASKS = [
    ("Backups restore drill", TaskStatus.DONE, "2", ["ops"]),
    ("Rotate the Directus static token", TaskStatus.IN_PROGRESS, "0.5", ["security"]),
    ("Dashboard data freshness alert", TaskStatus.TODO, "3", ["ops"]),
    ("Funnel metrics export", TaskStatus.BACKLOG, "5", ["product"]),
]


@transaction.atomic
def demo_seed() -> None:
    today = timezone.localdate()
    milestone, _ = Milestone.objects.get_or_create(
        name=DEMO_MILESTONE,
        defaults={
            "description": "The base the community builds on.",
            "start_date": today - timedelta(days=7),
            "target_date": today + timedelta(days=21),
            "status": MilestoneStatus.IN_PROGRESS,
        },
    )
    if milestone.tasks.exists():
        return
    now = timezone.now()
    created = []
    for title, status, estimate, labels in DEMO_TASKS:
        number = task_number_next("OPS")
        created.append(
            Task.objects.create(
                key="OPS",
                number=number,
                code=Task.code_for("OPS", number),
                title=title,
                status=status,
                estimate_days=Decimal(estimate),
                labels=labels,
                label_index=Task.label_index_for(labels),
                milestone=milestone,
                created_at=now - timedelta(days=6),
                updated_at=now,
                done_at=now - timedelta(days=2) if status == TaskStatus.DONE else None,
            )
        )
    TaskDependency.objects.create(task=created[2], depends_on=created[0])
