from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class ScoringCategory(models.TextChoices):
    TECHNICAL = "technical", "Technical deliverables"
    INNOVATION = "innovation", "Innovation"
    PROBLEM_SOLVING = "problem_solving", "Problem-solving"
    COLLABORATION = "collaboration", "Collaboration"


class ContributionType(models.Model):
    """A kind of contribution (All Contributors taxonomy or steward-defined)."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    emoji = models.CharField(max_length=8, blank=True)
    category = models.CharField(max_length=20, choices=ScoringCategory.choices)
    required_approvals = models.PositiveSmallIntegerField(default=1)
    is_custom = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=1, required_approvals__lte=5),
                name="community_type_approvals_range",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ContributionStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"


class ContributionSource(models.TextChoices):
    CLAIM = "claim", "Claim"
    GITHUB = "github", "GitHub"
    ROADMAP = "roadmap", "Roadmap task"


class Effort(models.TextChoices):
    SMALL = "small", "Small"
    MEDIUM = "medium", "Medium"
    LARGE = "large", "Large"


class Contribution(models.Model):
    """One piece of work. GitHub work by unknown users has no contributor until claimed."""

    contributor = models.ForeignKey(
        "community.Contributor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contributions",
    )
    # Matched case-insensitively (UPPER), which a plain index would not serve.
    github_login = models.CharField(max_length=39, blank=True)
    # No index of its own: a few dozen types select nothing, and every index is paid for
    # again by each of the thousands of rows an epoch close binds.
    type = models.ForeignKey(
        ContributionType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    link = models.URLField(blank=True, max_length=500)
    effort = models.CharField(max_length=10, choices=Effort.choices, default=Effort.MEDIUM)
    source = models.CharField(
        max_length=10, choices=ContributionSource.choices, default=ContributionSource.CLAIM
    )
    # Unique where present (GitHub, roadmap); claims have none and stay out of the index.
    external_id = models.CharField(max_length=200, null=True, blank=True)
    status = models.CharField(
        max_length=20,
        choices=ContributionStatus.choices,
        default=ContributionStatus.PENDING,
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    approved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    epoch = models.ForeignKey(
        "community.Epoch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contributions",
        db_index=False,  # served by the (epoch, status, approved_at) index
        # Closing an epoch binds ~200,000 rows at once; a foreign-key constraint would run
        # one check per row at commit (seconds). Epochs are permanent records instead: a
        # PostgreSQL trigger refuses deleting one (migration 0005), PROTECT guards the ORM.
        db_constraint=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        # Epoch first: it serves both an epoch's contributions and the unbound approved
        # work an epoch close binds (epoch IS NULL, status, approved_at < cutoff).
        indexes = [
            models.Index(
                fields=["epoch", "status", "approved_at"], name="community_contrib_epoch_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=models.Q(external_id__isnull=False),
                name="community_contribution_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def rating_average(self) -> Decimal | None:
        ratings = [r.rating for r in self.reviews.all() if r.rating]
        if not ratings:
            return None
        return Decimal(sum(ratings)) / len(ratings)


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_CHANGES = "request_changes", "Request changes"


class Review(models.Model):
    """A maintainer's decision on a contribution; approvals are unique per reviewer."""

    contribution = models.ForeignKey(Contribution, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    reason = models.TextField(blank=True, max_length=2000)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contribution", "reviewer"],
                condition=models.Q(decision="approve"),
                name="community_review_one_approval_per_reviewer",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="community_review_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.reviewer_id} on {self.contribution_id}"


class GithubDelivery(models.Model):
    """A processed GitHub webhook delivery, kept to refuse replays."""

    delivery_id = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=40)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.delivery_id
