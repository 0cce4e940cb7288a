from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Contributor(models.Model):
    """A person's contributor profile: linked identities, opt-outs, public page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributor"
    )
    github_handle = models.CharField(max_length=39, blank=True)
    opt_out_money = models.BooleanField(
        default=False, help_text="Points still count, but no money is allocated."
    )
    opt_out_listing = models.BooleanField(
        default=False, help_text="Hidden from leaderboards and the public export."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                Lower("github_handle"),
                condition=~models.Q(github_handle=""),
                name="community_contributor_github_handle_unique",
            )
        ]

    def __str__(self) -> str:
        return self.user.name

    @property
    def name(self) -> str:
        return self.user.name
