from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EpochMethod(models.TextChoices):
    PROPORTIONAL = "proportional", "Proportional to points"
    PEER = "peer", "Peer allocation (GIVE)"


class EpochStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Epoch(models.Model):
    """A reward period with a pool; closing it allocates the pool and posts the ledger."""

    name = models.CharField(max_length=80, unique=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    currency = models.ForeignKey("community.Currency", on_delete=models.PROTECT, related_name="+")
    pool_amount = models.DecimalField(max_digits=30, decimal_places=8)
    method = models.CharField(
        max_length=20, choices=EpochMethod.choices, default=EpochMethod.PROPORTIONAL
    )
    policy = models.ForeignKey(
        "community.ScoringPolicy", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=EpochStatus.choices, default=EpochStatus.OPEN, db_index=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transaction = models.OneToOneField(
        "community.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="epoch",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="community_epoch_span"
            ),
            models.CheckConstraint(
                condition=models.Q(pool_amount__gte=0), name="community_epoch_pool_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == EpochStatus.OPEN


class Allocation(models.Model):
    """A contributor's share of a closed epoch. Written once at close, never changed."""

    epoch = models.ForeignKey(Epoch, on_delete=models.PROTECT, related_name="allocations")
    contributor = models.ForeignKey(
        "community.Contributor", on_delete=models.PROTECT, related_name="allocations"
    )
    points = models.DecimalField(max_digits=24, decimal_places=4, default=0)
    give_received = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=30, decimal_places=8, default=0)
    contributions = models.PositiveIntegerField(default=0)
    rank = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["epoch", "contributor"], name="community_allocation_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="community_allocation_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.epoch_id}:{self.contributor_id} {self.amount}"


class PeerGive(models.Model):
    """GIVE sent from one contributor to another during a peer-allocation epoch."""

    epoch = models.ForeignKey(Epoch, on_delete=models.PROTECT, related_name="gives")
    giver = models.ForeignKey(
        "community.Contributor", on_delete=models.PROTECT, related_name="gives_sent"
    )
    receiver = models.ForeignKey(
        "community.Contributor", on_delete=models.PROTECT, related_name="gives_received"
    )
    amount = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["epoch", "giver", "receiver"], name="community_give_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(giver=models.F("receiver")), name="community_give_not_self"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=1, amount__lte=100),
                name="community_give_amount_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.giver_id} → {self.receiver_id}: {self.amount}"
