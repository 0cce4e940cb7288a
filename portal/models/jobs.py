from __future__ import annotations

from django.db import models
from django.utils import timezone


class Job(models.Model):
    """A unit of durable background work, claimed by one worker at a time.

    A worker holds a lease (``locked_until``) while running a job; if the worker dies the
    lease expires and another worker picks the job up again, so no job is lost.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200, db_index=True)
    args = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    priority = models.SmallIntegerField(default=0, help_text="Higher runs first.")
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    run_after = models.DateTimeField(default=timezone.now)
    locked_by = models.CharField(max_length=200, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    unique_key = models.CharField(
        max_length=200, null=True, blank=True, help_text="At most one queued/running job per key."
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "run_after"], name="job_ready_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=models.Q(status__in=["queued", "running"]),
                name="job_unique_key_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}#{self.pk} ({self.status})"


class JobSchedule(models.Model):
    """When a periodic job declared in code last ran and next runs (shared by all workers)."""

    name = models.CharField(max_length=200, primary_key=True)
    interval_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name
