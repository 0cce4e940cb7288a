"""Proposals, their revisions and their discussion."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.models.choices import Category, ProposalStatus, VoteOpener


class CategorySettings(models.Model):
    """Steward-configured rules for every proposal of one category."""

    category = models.CharField(max_length=20, choices=Category.choices, unique=True)
    min_discussion_days = models.PositiveIntegerField(default=7)
    seconds_required = models.PositiveIntegerField(default=0)
    vote_opener = models.CharField(
        max_length=20, choices=VoteOpener.choices, default=VoteOpener.AUTHOR
    )
    delegation_enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"settings for {self.category}"


class Tag(models.Model):
    """A free-form label on proposals (lower-case slug)."""

    name = models.SlugField(max_length=40, unique=True)

    def __str__(self) -> str:
        return self.name


class Proposal(models.Model):
    """A proposal members discuss and then decide by a poll or a team sign-off."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    tags = models.ManyToManyField(Tag, blank=True, related_name="proposals")
    status = models.CharField(
        max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT, db_index=True
    )
    is_public = models.BooleanField(default=True)
    outcome = models.TextField(blank=True)
    discussion_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(title=""), name="governance_proposal_title_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ProposalRevision(models.Model):
    """A saved version of a proposal's title and body (revision 1 is the first draft)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "number"], name="governance_revision_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} r{self.number}"


class ProposalSecond(models.Model):
    """A member supporting a proposal's move to a vote."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="seconds")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="governance_second_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} seconds {self.proposal_id}"


class Comment(models.Model):
    """A threaded discussion comment; edits keep the previous body in ``CommentEdit``."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    body = models.TextField()
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="governance_mentions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="governance_comment_not_empty")
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.proposal_id}"


class CommentEdit(models.Model):
    """The body a comment had before an edit."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="edits")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"edit of comment {self.comment_id}"


class Reaction(models.Model):
    """An emoji reaction to a comment, at most once per user and emoji."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    emoji = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["comment", "user", "emoji"], name="governance_reaction_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.emoji} on comment {self.comment_id}"
