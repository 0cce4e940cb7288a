"""Team sign-off with concerns and a final comment period (FCP)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

from governance.models.choices import Disposition, SignoffStatus
from governance.models.proposals import Proposal


class SignoffProcess(models.Model):
    """A proposal decided by a team: every member signs off, no concern stays open, then
    the FCP runs and the disposition takes effect."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="signoff")
    team = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    disposition = models.CharField(max_length=10, choices=Disposition.choices)
    status = models.CharField(
        max_length=10, choices=SignoffStatus.choices, default=SignoffStatus.REVIEW
    )
    fcp_days = models.PositiveIntegerField(default=10)
    fcp_started_at = models.DateTimeField(null=True, blank=True)
    fcp_ends_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status="review") | Q(fcp_ends_at__isnull=False),
                name="governance_signoff_fcp_has_end",
            )
        ]

    def __str__(self) -> str:
        return f"sign-off of proposal {self.proposal_id}"


class Signoff(models.Model):
    """A team member's "reviewed" mark."""

    process = models.ForeignKey(SignoffProcess, on_delete=models.CASCADE, related_name="signoffs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "user"], name="governance_signoff_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} signed off {self.process_id}"


class Concern(models.Model):
    """A named concern; it blocks the process until its author resolves it."""

    process = models.ForeignKey(SignoffProcess, on_delete=models.CASCADE, related_name="concerns")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    body = models.TextField(blank=True)
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["process", "name"],
                condition=Q(resolved_at__isnull=True),
                name="governance_concern_open_name_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name
