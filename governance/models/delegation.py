"""Liquid democracy: a member's standing delegation, globally or for one category."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from governance.models.choices import Category


class Delegation(models.Model):
    """``delegator`` lets ``delegate`` vote for them (``category`` blank = every category).

    A category delegation takes precedence over the global one. Cycles are refused by
    ``delegation_set``; polls snapshot delegations when they open.
    """

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_received"
    )
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["delegator", "category"], name="governance_delegation_one_per_scope"
            ),
            models.CheckConstraint(
                condition=~Q(delegator=F("delegate")), name="governance_delegation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegator_id} → {self.delegate_id} ({self.category or 'all'})"
