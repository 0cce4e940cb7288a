from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

DEFAULT_CATEGORY_WEIGHTS = {
    "technical": "0.40",
    "innovation": "0.20",
    "problem_solving": "0.20",
    "collaboration": "0.20",
}
DEFAULT_EFFORT_MULTIPLIERS = {"small": "0.5", "medium": "1", "large": "2"}
# Average reviewer rating (1 to 5, rounded) → multiplier; no rating means 1.
DEFAULT_RATING_MULTIPLIERS = {"1": "0.6", "2": "0.8", "3": "1", "4": "1.2", "5": "1.5"}


class ScoringPolicy(models.Model):
    """A numbered, immutable scoring policy. Epochs pin the version they were opened with.

    Weights and multipliers are stored as decimal strings so recomputation is exact.
    """

    version = models.PositiveIntegerField(unique=True)
    category_weights = models.JSONField(default=dict)
    base_points = models.JSONField(default=dict, help_text="type slug → base points")
    default_base_points = models.CharField(max_length=20, default="10")
    effort_multipliers = models.JSONField(default=dict)
    rating_multipliers = models.JSONField(default=dict)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = "scoring policies"

    def __str__(self) -> str:
        return f"policy v{self.version}"
