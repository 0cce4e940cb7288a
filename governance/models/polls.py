"""Polls, their options, the frozen electorate, ballots and participation."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from governance.models.choices import (
    MajorityBase,
    MajorityKind,
    Method,
    PollStatus,
    Visibility,
    Weighting,
)
from governance.models.proposals import Proposal


class Poll(models.Model):
    """A vote: a proposal's or standalone. Its rules are frozen once it opens."""

    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="polls"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(
        max_length=10, choices=PollStatus.choices, default=PollStatus.DRAFT, db_index=True
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.NAMED
    )
    is_public = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # eligibility: roles (any of) and/or an explicit list, frozen into EligibleVoter at open
    eligible_roles = models.JSONField(default=list, blank=True)
    eligible_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    weighting = models.CharField(max_length=20, choices=Weighting.choices, default="equal")
    allow_delegation = models.BooleanField(default=False)
    quorum_count = models.PositiveIntegerField(default=0)
    quorum_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    majority_kind = models.CharField(
        max_length=20, choices=MajorityKind.choices, default=MajorityKind.SIMPLE
    )
    majority_base = models.CharField(
        max_length=20, choices=MajorityBase.choices, default=MajorityBase.VALID
    )
    majority_fraction = models.DecimalField(max_digits=6, decimal_places=5, null=True, blank=True)
    allow_block = models.BooleanField(default=False)
    min_selections = models.PositiveIntegerField(default=1)
    max_selections = models.PositiveIntegerField(default=1)
    allow_none = models.BooleanField(default=False)
    max_score = models.PositiveIntegerField(default=5)
    budget = models.PositiveIntegerField(default=100)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField()
    extend_until_quorum = models.BooleanField(default=False)
    max_closes_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    eligible_count = models.PositiveIntegerField(default=0)
    eligible_weight = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal(0))
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True) | Q(closes_at__gt=F("opens_at")),
                name="governance_poll_closes_after_opening",
            ),
            models.CheckConstraint(
                condition=Q(min_selections__lte=F("max_selections")),
                name="governance_poll_selection_bounds",
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__gte=0) & Q(quorum_percent__lte=100),
                name="governance_poll_quorum_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(max_closes_at__isnull=True) | Q(max_closes_at__gte=F("closes_at")),
                name="governance_poll_extension_after_close",
            ),
            # Delegated weight is resolved at tally time from who voted: impossible when
            # the ballot row carries no voter.
            models.CheckConstraint(
                condition=~(Q(visibility="secret") & Q(allow_delegation=True)),
                name="governance_poll_no_delegation_in_secret",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PollOption(models.Model):
    """One option of a poll, in display order (the order breaks ties)."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "position"], name="governance_option_unique_position"
            )
        ]

    def __str__(self) -> str:
        return self.label


class EligibleVoter(models.Model):
    """The electorate frozen when the poll opened, with weights and delegation snapshot."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="electorate")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    weight = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal(1))
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "user"], name="governance_eligible_once"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="governance_weight_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in poll {self.poll_id}"


class Participation(models.Model):
    """Records that a user voted (never what). One per voter and poll: the uniqueness that
    makes concurrent casts count once."""

    # The (poll, user) constraint's index serves lookups by poll: no index of its own.
    poll = models.ForeignKey(
        Poll, on_delete=models.CASCADE, related_name="participations", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "user"], name="governance_participation_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} voted in poll {self.poll_id}"


class Ballot(models.Model):
    """A counted ballot. ``voter`` is NULL for secret polls (always) and for
    anonymous-on-close polls after close. ``receipt`` = sha256 of the canonical ballot JSON
    with the voter's nonce."""

    # The (poll, voter) constraint's index serves lookups by poll: no index of its own.
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots", db_index=False)
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    choice = models.JSONField()
    weight = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal(1))
    receipt = models.CharField(max_length=64)  # unique: see Meta
    cast_at = models.DateTimeField()

    class Meta:
        ordering = ["receipt"]
        constraints = [
            # NULL voters (secret polls) are distinct from each other, so this only binds
            # named ballots; being unconditional lets vote_cast upsert with ON CONFLICT.
            models.UniqueConstraint(
                fields=["poll", "voter"], name="governance_ballot_one_per_voter"
            ),
            # A constraint, not ``unique=True``: on PostgreSQL that would add a second,
            # LIKE-only index that every cast writes too.
            models.UniqueConstraint(fields=["receipt"], name="governance_ballot_receipt_uniq"),
        ]

    def __str__(self) -> str:
        return f"ballot {self.receipt[:12]} in poll {self.poll_id}"
