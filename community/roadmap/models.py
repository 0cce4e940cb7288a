"""Roadmap data: milestones, tasks with per-key numbers, dependencies and WIP limits."""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

TASK_CODE_RE = re.compile(r"^([A-Z][A-Z0-9]{1,9})-(\d{1,6})$")
PROJECT_KEY_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
LABEL_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TaskStatus(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


CLOSED_STATUSES = (TaskStatus.DONE, TaskStatus.CANCELLED)
# Statuses that need every dependency done first.
STARTED_STATUSES = (TaskStatus.IN_PROGRESS, TaskStatus.DONE)


class Priority(models.IntegerChoices):
    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    MEDIUM = 3, "Medium"
    LOW = 4, "Low"


class Milestone(models.Model):
    """A phase of the roadmap with its dates and status."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, max_length=5000)
    start_date = models.DateField(null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_date__isnull=True)
                | models.Q(target_date__isnull=True)
                | models.Q(target_date__gte=models.F("start_date")),
                name="roadmap_milestone_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProjectCounter(models.Model):
    """The last number handed out for a project key; incremented under a row lock."""

    key = models.CharField(max_length=10, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.last_number}"


class Task(models.Model):
    """A unit of roadmap work, numbered per project key (``OPS-001``)."""

    key = models.CharField(max_length=10)
    number = models.PositiveIntegerField()
    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=20000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roadmap_tasks",
    )
    estimate_days = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    labels = models.JSONField(default=list, blank=True)
    # "|a|b|": lets every database filter by one label with a plain LIKE.
    label_index = models.CharField(max_length=1000, blank=True, default="", db_index=True)
    status = models.CharField(
        max_length=20, choices=TaskStatus.choices, default=TaskStatus.BACKLOG, db_index=True
    )
    position = models.IntegerField(default=0)
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    due_date = models.DateField(null=True, blank=True)
    proposal = models.ForeignKey(
        "governance.Proposal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roadmap_tasks",
    )
    depends_on: models.ManyToManyField[Task, TaskDependency] = models.ManyToManyField(
        "self",
        symmetrical=False,
        through="TaskDependency",
        related_name="dependents",
        blank=True,
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key", "number"]
        constraints = [
            models.UniqueConstraint(fields=["key", "number"], name="roadmap_task_key_number"),
            models.CheckConstraint(
                condition=models.Q(estimate_days__isnull=True)
                | models.Q(estimate_days__gte=Decimal(0)),
                name="roadmap_task_estimate_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["milestone", "status", "position"])]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @staticmethod
    def code_for(key: str, number: int) -> str:
        return f"{key}-{number:03d}"

    @staticmethod
    def label_index_for(labels: list[str]) -> str:
        return "|" + "|".join(labels) + "|" if labels else ""


class TaskDependency(models.Model):
    """``task`` cannot start until ``depends_on`` is done."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    depends_on = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "depends_on"], name="roadmap_dependency_once"),
            models.CheckConstraint(
                condition=~models.Q(task=models.F("depends_on")), name="roadmap_dependency_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} → {self.depends_on_id}"


class WipLimit(models.Model):
    """At most ``limit`` tasks in ``status`` per board; ``enforce`` refuses instead of warning."""

    status = models.CharField(max_length=20, choices=TaskStatus.choices, unique=True)
    limit = models.PositiveIntegerField()
    enforce = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.status} ≤ {self.limit}"
