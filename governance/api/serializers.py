"""Governance API serializers: output shapes and input validation (no business rules)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.models import (
    Category,
    Comment,
    Delegation,
    Method,
    Poll,
    Proposal,
    Visibility,
)
from governance.rendering import markdown_render
from governance.selectors import participation_count, poll_results_visible


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class ProposalSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    tags = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    seconds = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "title",
            "body",
            "body_html",
            "author",
            "category",
            "tags",
            "status",
            "is_public",
            "outcome",
            "seconds",
            "discussion_started_at",
            "closed_at",
            "created_at",
            "updated_at",
        ]

    def get_body_html(self, obj: Proposal) -> str:
        return markdown_render(obj.body)

    def get_tags(self, obj: Proposal) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    def get_seconds(self, obj: Proposal) -> int:
        return obj.seconds.count()


class ProposalInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    is_public = serializers.BooleanField(required=False)


class ProposalUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)


class CommentSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    body_html = serializers.SerializerMethodField()
    reactions = serializers.SerializerMethodField()
    edits = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "parent",
            "author",
            "body",
            "body_html",
            "reactions",
            "edits",
            "created_at",
            "edited_at",
        ]

    def get_body_html(self, obj: Comment) -> str:
        return markdown_render(obj.body)

    def get_reactions(self, obj: Comment) -> dict[str, int]:
        counts: dict[str, int] = {}
        for reaction in obj.reactions.all():
            counts[reaction.emoji] = counts.get(reaction.emoji, 0) + 1
        return counts

    def get_edits(self, obj: Comment) -> list[dict[str, Any]]:
        return [{"body": e.body, "created_at": e.created_at} for e in obj.edits.all()]


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20_000)
    parent_id = serializers.IntegerField(required=False, allow_null=True, source="parent")


class PollSerializer(serializers.ModelSerializer):
    options = serializers.SerializerMethodField()
    participation = serializers.SerializerMethodField()
    results_visible = serializers.SerializerMethodField()

    class Meta:
        model = Poll
        fields = [
            "id",
            "proposal",
            "title",
            "description",
            "method",
            "status",
            "visibility",
            "is_public",
            "eligible_roles",
            "weighting",
            "allow_delegation",
            "quorum_count",
            "quorum_percent",
            "majority_kind",
            "majority_base",
            "majority_fraction",
            "allow_block",
            "min_selections",
            "max_selections",
            "allow_none",
            "max_score",
            "budget",
            "opens_at",
            "closes_at",
            "extend_until_quorum",
            "max_closes_at",
            "opened_at",
            "closed_at",
            "eligible_count",
            "participation",
            "results_visible",
            "options",
        ]

    def get_options(self, obj: Poll) -> list[dict[str, Any]]:
        return [{"id": o.pk, "label": o.label, "position": o.position} for o in obj.options.all()]

    def get_participation(self, obj: Poll) -> int:
        return participation_count(poll=obj)

    def get_results_visible(self, obj: Poll) -> bool:
        return poll_results_visible(poll=obj)


class PollInputSerializer(serializers.Serializer):
    """Poll settings; cross-field rules are checked by ``poll_create``/``poll_update``."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    method = serializers.ChoiceField(choices=Method.choices)
    options = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50
    )
    proposal = serializers.IntegerField(required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    is_public = serializers.BooleanField(required=False)
    eligible_roles = serializers.ListField(child=serializers.CharField(), required=False)
    eligible_users = serializers.ListField(child=serializers.IntegerField(), required=False)
    weighting = serializers.ChoiceField(choices=["equal", "contribution"], required=False)
    allow_delegation = serializers.BooleanField(required=False)
    quorum_count = serializers.IntegerField(min_value=0, required=False)
    quorum_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    majority_kind = serializers.ChoiceField(
        choices=["simple", "absolute", "two_thirds", "custom"], required=False
    )
    majority_base = serializers.ChoiceField(
        choices=["valid", "valid_abstain", "eligible"], required=False
    )
    majority_fraction = serializers.DecimalField(
        max_digits=6, decimal_places=5, required=False, allow_null=True
    )
    allow_block = serializers.BooleanField(required=False)
    min_selections = serializers.IntegerField(min_value=0, max_value=50, required=False)
    max_selections = serializers.IntegerField(min_value=1, max_value=50, required=False)
    allow_none = serializers.BooleanField(required=False)
    max_score = serializers.IntegerField(min_value=1, max_value=100, required=False)
    budget = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    opens_at = serializers.DateTimeField(required=False, allow_null=True)
    closes_at = serializers.DateTimeField()
    extend_until_quorum = serializers.BooleanField(required=False)
    max_closes_at = serializers.DateTimeField(required=False, allow_null=True)
    open_now = serializers.BooleanField(required=False, default=False)


class BallotInputSerializer(serializers.Serializer):
    choice = serializers.JSONField()


class VerifyInputSerializer(serializers.Serializer):
    receipt = serializers.CharField(max_length=64)
    nonce = serializers.CharField(max_length=64, required=False, allow_blank=True)


class DelegationSerializer(serializers.ModelSerializer):
    delegate = UserRefSerializer(read_only=True)
    delegator = UserRefSerializer(read_only=True)

    class Meta:
        model = Delegation
        fields = ["id", "delegator", "delegate", "category", "created_at"]


class DelegationInputSerializer(serializers.Serializer):
    delegate = serializers.IntegerField()
    category = serializers.ChoiceField(
        choices=[("", "all"), *Category.choices], required=False, allow_blank=True
    )
