from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Badge(models.Model):
    """A recognition. ``automatic`` badges are awarded by rules; others by stewards."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    icon = models.CharField(max_length=8, blank=True)
    automatic = models.BooleanField(default=False)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class BadgeAward(models.Model):
    """A badge given to a contributor (per epoch for epoch badges)."""

    badge = models.ForeignKey(Badge, on_delete=models.PROTECT, related_name="awards")
    contributor = models.ForeignKey(
        "community.Contributor", on_delete=models.PROTECT, related_name="badge_awards"
    )
    epoch = models.ForeignKey(
        "community.Epoch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["badge", "contributor"],
                condition=models.Q(epoch__isnull=True),
                name="community_badge_once",
            ),
            models.UniqueConstraint(
                fields=["badge", "contributor", "epoch"],
                condition=models.Q(epoch__isnull=False),
                name="community_badge_once_per_epoch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.badge_id} → {self.contributor_id}"
