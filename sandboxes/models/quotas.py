"""Quotas: per role (steward-configurable) and one global concurrency cap."""

from __future__ import annotations

from django.db import models


class QuotaPolicy(models.Model):
    """Limits for everyone whose highest role is ``role``."""

    role = models.CharField(max_length=32, unique=True)
    max_concurrent = models.PositiveIntegerField(default=2)
    launches_per_day = models.PositiveIntegerField(default=20)
    cpu_minutes_per_day = models.PositiveIntegerField(default=120)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role"]

    def __str__(self) -> str:
        return f"quota for {self.role}"


class GlobalQuota(models.Model):
    """The site-wide cap on sandboxes running at once (a single row, pk=1)."""

    max_running = models.PositiveIntegerField(default=20)
    workspace_retention_hours = models.PositiveIntegerField(default=24)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"global quota ({self.max_running} running)"

    @classmethod
    def current(cls) -> GlobalQuota:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj
