"""Agent profiles (versioned data), runs, their artifacts and per-role daily limits.

A run's event stream is the realtime hub's persisted topic ``run.<id>``: every event is a
``portal.RealtimeEvent`` row with the topic's sequence number, so replay to a late viewer
and ``/api/v1/runs/{id}/events/?after_seq=`` read the same rows.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from sandboxes.agents.profiles import AgentProfile


class RiskyPolicy(models.TextChoices):
    CONFIRM = "confirm", "Ask the run's owner"
    REFUSE = "refuse", "Refuse"
    ALLOW = "allow", "Allow"


class Profile(models.Model):
    """A named agent profile; its behaviour lives in immutable ``ProfileVersion`` rows."""

    name = models.SlugField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest(self) -> ProfileVersion | None:
        return self.versions.order_by("-number").first()


class ProfileVersion(models.Model):
    """One version of a profile; never edited (a steward's change adds a new version)."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    purpose = models.CharField(max_length=300)
    system_prompt = models.TextField()
    tools = models.JSONField(default=list)
    max_steps = models.PositiveIntegerField(default=30)
    max_wall_seconds = models.PositiveIntegerField(default=900)
    max_tokens = models.PositiveIntegerField(default=200_000)
    model = models.CharField(max_length=200, blank=True)
    shell_allowlist = models.JSONField(default=list, blank=True)
    risky_policy = models.CharField(
        max_length=10, choices=RiskyPolicy.choices, default=RiskyPolicy.CONFIRM
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["profile__name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "number"], name="agents_profile_version"),
            models.CheckConstraint(condition=models.Q(max_steps__gte=1), name="agents_steps_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.profile.name} v{self.number}"

    def runtime(self) -> AgentProfile:
        """The runtime's frozen profile for this version (validates tools and budgets)."""
        return AgentProfile(
            name=self.profile.name,
            purpose=self.purpose,
            system_prompt=self.system_prompt,
            tools=tuple(self.tools),
            max_steps=self.max_steps,
            max_wall_seconds=self.max_wall_seconds,
            max_tokens=self.max_tokens,
            model=self.model,
            shell_allowlist=tuple(self.shell_allowlist),
            risky_policy=self.risky_policy,  # type: ignore[arg-type]
            version=self.number,
        )


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    STARTING = "starting", "Starting"
    RUNNING = "running", "Running"
    AWAITING_CONFIRMATION = "awaiting_confirmation", "Awaiting confirmation"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    INTERRUPTED = "interrupted", "Interrupted"
    TIMED_OUT = "timed_out", "Timed out"


ENDED_STATES = (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT)
WORKING_STATES = (RunState.STARTING, RunState.RUNNING)


class Run(models.Model):
    """One agent run: who asked what of which profile version, where, and how it went."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_runs"
    )
    profile_version = models.ForeignKey(
        ProfileVersion, on_delete=models.PROTECT, related_name="runs"
    )
    task = models.TextField()
    recipe = models.ForeignKey(
        "sandboxes.Recipe", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sandbox = models.ForeignKey(
        "sandboxes.Sandbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # True when the run launched its sandbox (and so stops it when it ends).
    sandbox_owned = models.BooleanField(default=False)
    steps = models.JSONField(null=True, blank=True)  # scripted step list; None = model
    provider = models.CharField(max_length=40)  # "scripted" | "openai-compatible"
    state = models.CharField(max_length=24, choices=RunState.choices, default=RunState.QUEUED)
    reason = models.CharField(max_length=500, blank=True)
    loop_state = models.JSONField(default=dict)
    # The workspace's text files when the run first started ({path: text}), for the diff.
    baseline = models.JSONField(null=True, blank=True)
    last_step = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    job_id = models.BigIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    tool_calls = models.PositiveIntegerField(default=0)
    cpu_seconds = models.FloatField(default=0)
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            models.Index(fields=["state", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.state})"

    @property
    def topic(self) -> str:
        return f"run.{self.pk}"

    @property
    def total_tokens(self) -> int:
        return int(self.prompt_tokens + self.completion_tokens)

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def provider_label(self) -> str:
        return "scripted" if self.provider == "scripted" else f"model ({self.provider})"

    def usage(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "tool_calls": self.tool_calls,
            "cpu_seconds": round(self.cpu_seconds, 3),
        }


class ArtifactKind(models.TextChoices):
    REPORT = "report", "Report"
    DIFF = "diff", "Diff of changed files"


class RunArtifact(models.Model):
    """Text a run produced: its report (final answer) and the diff of the workspace."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    kind = models.CharField(max_length=12, choices=ArtifactKind.choices)
    name = models.CharField(max_length=200)
    content = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["run", "kind"], name="agents_artifact")]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.name}"


class RunLimit(models.Model):
    """Per-role daily limits on runs (steward-configurable; defaults in ``services``)."""

    role = models.CharField(max_length=32, unique=True)
    runs_per_day = models.PositiveIntegerField(default=20)
    tokens_per_day = models.PositiveBigIntegerField(default=2_000_000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role"]

    def __str__(self) -> str:
        return f"run limits for {self.role}"
