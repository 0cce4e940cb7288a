from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PayoutStatus(models.TextChoices):
    DRAFT = "draft", "Draft (awaiting approval)"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


class Payout(models.Model):
    """A contributor's request to be paid (part of) their balance."""

    contributor = models.ForeignKey(
        "community.Contributor", on_delete=models.PROTECT, related_name="payouts"
    )
    currency = models.ForeignKey("community.Currency", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=30, decimal_places=8)
    status = models.CharField(
        max_length=12, choices=PayoutStatus.choices, default=PayoutStatus.DRAFT, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    transaction = models.OneToOneField(
        "community.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payout",
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="community_payout_positive"
            )
        ]

    def __str__(self) -> str:
        return f"payout#{self.pk} {self.amount} {self.currency_id}"


class PayoutApproval(models.Model):
    """One steward's approval; two different stewards above the currency threshold."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="approvals")
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payout", "steward"], name="community_payout_approval_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.steward_id} approved {self.payout_id}"
