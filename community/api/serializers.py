"""API shapes. Input serializers only type-check; rules live in the services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from community.models import (
    Account,
    Badge,
    BadgeAward,
    Contribution,
    ContributionType,
    Entry,
    Epoch,
    LedgerTransaction,
    Payout,
    Review,
    ScoringPolicy,
)


class ContributionTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContributionType
        fields = ["slug", "name", "emoji", "category", "required_approvals", "is_custom", "active"]
        read_only_fields = ["is_custom", "active"]


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.name", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "reviewer", "decision", "reason", "rating", "created_at"]


class ReviewCreateSerializer(serializers.Serializer):
    decision = serializers.CharField(max_length=20)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    rating = serializers.IntegerField(required=False, allow_null=True, default=None)


class ContributionSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="type.slug", read_only=True)
    category = serializers.CharField(source="type.category", read_only=True)
    contributor = serializers.SerializerMethodField()

    class Meta:
        model = Contribution
        fields = [
            "id",
            "type",
            "category",
            "title",
            "description",
            "link",
            "effort",
            "source",
            "status",
            "contributor",
            "github_login",
            "created_at",
            "approved_at",
            "epoch",
        ]

    def get_contributor(self, obj: Contribution) -> dict[str, Any] | None:
        if obj.contributor is None:
            return None
        return {"id": obj.contributor.pk, "name": obj.contributor.name}


class ContributionCreateSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )
    link = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    effort = serializers.CharField(max_length=10, required=False, default="medium")


class EpochSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="currency_id", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    pool_amount = serializers.DecimalField(
        max_digits=30, decimal_places=8, coerce_to_string=True, read_only=True
    )

    class Meta:
        model = Epoch
        fields = [
            "id",
            "name",
            "starts_at",
            "ends_at",
            "currency",
            "pool_amount",
            "method",
            "status",
            "policy_version",
            "closed_at",
            "transaction",
        ]


class EpochCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    currency = serializers.CharField(max_length=8)
    pool_amount = serializers.JSONField()
    method = serializers.CharField(max_length=20, required=False, default="proportional")


class GiveSerializer(serializers.Serializer):
    receiver = serializers.IntegerField()
    amount = serializers.IntegerField()


class AllocationRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    contributor_id = serializers.IntegerField()
    points = serializers.DecimalField(max_digits=24, decimal_places=4)
    give_received = serializers.IntegerField()
    contributions = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=30, decimal_places=8)


class EntrySerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.__str__", read_only=True)
    kind = serializers.CharField(source="account.kind", read_only=True)
    currency = serializers.CharField(source="currency_id", read_only=True)

    class Meta:
        model = Entry
        fields = ["account", "kind", "currency", "amount"]


class TransactionSerializer(serializers.ModelSerializer):
    entries = EntrySerializer(many=True, read_only=True)

    class Meta:
        model = LedgerTransaction
        fields = [
            "id",
            "idempotency_key",
            "memo",
            "source",
            "source_id",
            "reverses",
            "created_at",
            "entries",
        ]


class TransactionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["funding", "grant"])
    currency = serializers.CharField(max_length=8)
    amount = serializers.JSONField()
    idempotency_key = serializers.CharField(max_length=200)
    memo = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    contributor = serializers.IntegerField(required=False)


class BalanceSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="currency_id", read_only=True)
    balance = serializers.DecimalField(
        source="cached_balance.balance", max_digits=30, decimal_places=8, read_only=True
    )

    class Meta:
        model = Account
        fields = ["id", "kind", "currency", "contributor", "balance"]


class PayoutSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="currency_id", read_only=True)
    approvals = serializers.SerializerMethodField()

    class Meta:
        model = Payout
        fields = [
            "id",
            "contributor",
            "currency",
            "amount",
            "status",
            "note",
            "reason",
            "approvals",
            "transaction",
            "created_at",
            "decided_at",
            "paid_at",
        ]

    def get_approvals(self, obj: Payout) -> int:
        return len(obj.approvals.all())


class PayoutCreateSerializer(serializers.Serializer):
    amount = serializers.JSONField()
    currency = serializers.CharField(max_length=8)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class BadgeSerializer(serializers.ModelSerializer):
    awarded = serializers.IntegerField(source="awards.count", read_only=True)

    class Meta:
        model = Badge
        fields = ["slug", "name", "description", "icon", "automatic", "awarded"]
        read_only_fields = ["automatic"]


class BadgeAwardSerializer(serializers.ModelSerializer):
    badge = serializers.CharField(source="badge.slug", read_only=True)

    class Meta:
        model = BadgeAward
        fields = ["id", "badge", "contributor", "epoch", "reason", "created_at"]


class BadgeAwardCreateSerializer(serializers.Serializer):
    contributor = serializers.IntegerField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ScoringPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoringPolicy
        fields = [
            "version",
            "category_weights",
            "base_points",
            "default_base_points",
            "effort_multipliers",
            "rating_multipliers",
            "notes",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]
