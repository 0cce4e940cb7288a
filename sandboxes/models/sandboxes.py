"""Sandboxes and their state history."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


class SandboxState(models.TextChoices):
    REQUESTED = "requested", "Requested"
    STARTING = "starting", "Starting"
    RUNNING = "running", "Running"
    STOPPING = "stopping", "Stopping"
    STOPPED = "stopped", "Stopped"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


ACTIVE_STATES = (
    SandboxState.REQUESTED,
    SandboxState.STARTING,
    SandboxState.RUNNING,
    SandboxState.STOPPING,
)
ENDED_STATES = (SandboxState.STOPPED, SandboxState.FAILED, SandboxState.EXPIRED)


def _backend_id() -> str:
    return secrets.token_hex(8)


class Sandbox(models.Model):
    """One launched environment: who owns it, what it runs, where it lives, how it ended."""

    backend_id = models.CharField(max_length=32, unique=True, default=_backend_id)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sandboxes"
    )
    recipe_version = models.ForeignKey(
        "sandboxes.RecipeVersion", on_delete=models.PROTECT, related_name="sandboxes"
    )
    backend = models.CharField(max_length=32)
    state = models.CharField(
        max_length=16, choices=SandboxState.choices, default=SandboxState.REQUESTED
    )
    reason = models.CharField(max_length=300, blank=True)
    progress_step = models.CharField(max_length=80, blank=True)
    progress_pct = models.PositiveSmallIntegerField(default=0)
    handle_ref = models.CharField(max_length=200, blank=True)
    handle_host = models.CharField(max_length=200, blank=True)
    viewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="sandboxes_shared_with_me"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    idle_warned_at = models.DateTimeField(null=True, blank=True)
    workspace_removed_at = models.DateTimeField(null=True, blank=True)
    # Set while the workspace's disk quota is used up (writes inside fail with ENOSPC).
    disk_full_at = models.DateTimeField(null=True, blank=True)
    cpu_seconds = models.FloatField(default=0)
    memory_peak_bytes = models.BigIntegerField(null=True, blank=True)
    wall_seconds = models.FloatField(default=0)
    terminal_log = models.BinaryField(default=b"", blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "state"]),
            models.Index(fields=["state", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"sandbox {self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def topic(self) -> str:
        return f"sandbox.{self.pk}"


class SandboxTransition(models.Model):
    """Every state change, timestamped (the audit log holds who did it)."""

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.sandbox_id}: {self.from_state} → {self.to_state}"
