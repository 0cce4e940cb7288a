"""Proposal lifecycle, revisions and discussion."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from governance.models import (
    CLOSED_STATUSES_VALUES,
    Category,
    CategorySettings,
    Comment,
    CommentEdit,
    Poll,
    Proposal,
    ProposalRevision,
    ProposalSecond,
    ProposalStatus,
    Reaction,
    Tag,
    VoteOpener,
)
from governance.rendering import mentions_find
from governance.topics import proposal_event
from portal.api.errors import DomainError
from portal.audit import audit_record

MAX_TAGS = 10


def _locked(obj: Proposal) -> Proposal:
    """Lock the row and refresh the caller's instance, so callers see the new state."""
    Proposal.objects.select_for_update().filter(pk=obj.pk).first()
    obj.refresh_from_db()
    return obj


def category_settings_get(category: str) -> CategorySettings:
    settings, _ = CategorySettings.objects.get_or_create(category=category)
    return settings


def _tags_set(proposal: Proposal, tags: list[str]) -> None:
    slugs = sorted({slugify(t)[:40] for t in tags if slugify(t)})
    if len(slugs) > MAX_TAGS:
        raise DomainError(f"at most {MAX_TAGS} tags", code="too_many_tags")
    proposal.tags.set([Tag.objects.get_or_create(name=s)[0] for s in slugs])


def _require_author(actor: Any, proposal: Proposal) -> None:
    if proposal.author_id != actor.pk:
        raise DomainError("only the author may do this", code="not_author", status_code=403)


def _status_event(proposal: Proposal) -> None:
    proposal_event(proposal.pk, "proposal.status", {"status": proposal.status})


@transaction.atomic
def proposal_create(
    *,
    author: Any,
    title: str,
    body: str = "",
    category: str = Category.OTHER,
    tags: list[str] | None = None,
    is_public: bool = True,
) -> Proposal:
    """Create a draft proposal with its first revision."""
    title = (title or "").strip()
    if not title:
        raise DomainError("a proposal needs a title", code="title_required")
    if category not in Category.values:
        raise DomainError(f"unknown category {category!r}", code="unknown_category")
    proposal = Proposal.objects.create(
        title=title, body=body, author=author, category=category, is_public=is_public
    )
    _tags_set(proposal, tags or [])
    ProposalRevision.objects.create(
        proposal=proposal, number=1, title=title, body=body, author=author
    )
    audit_record(actor=author, action="governance.proposal.create", obj=proposal)
    return proposal


@transaction.atomic
def proposal_update(
    *,
    actor: Any,
    proposal: Proposal,
    title: str | None = None,
    body: str | None = None,
    tags: list[str] | None = None,
) -> Proposal:
    """The author revises a draft or a proposal under discussion; each change of title or
    body is kept as a new revision."""
    proposal = _locked(proposal)
    _require_author(actor, proposal)
    if proposal.status not in (ProposalStatus.DRAFT, ProposalStatus.DISCUSSION):
        raise DomainError(
            "only drafts and proposals under discussion can be revised",
            code="proposal_frozen",
            status_code=409,
        )
    new_title = proposal.title if title is None else title.strip()
    new_body = proposal.body if body is None else body
    if not new_title:
        raise DomainError("a proposal needs a title", code="title_required")
    if (new_title, new_body) != (proposal.title, proposal.body):
        last = proposal.revisions.order_by("-number").first()
        ProposalRevision.objects.create(
            proposal=proposal,
            number=(last.number if last else 0) + 1,
            title=new_title,
            body=new_body,
            author=actor,
        )
        proposal.title, proposal.body = new_title, new_body
        proposal.save(update_fields=["title", "body", "updated_at"])
        audit_record(actor=actor, action="governance.proposal.revise", obj=proposal)
        proposal_event(proposal.pk, "proposal.revised", {"revision": proposal.revisions.count()})
    if tags is not None:
        _tags_set(proposal, tags)
    return proposal


@transaction.atomic
def proposal_submit(*, actor: Any, proposal: Proposal) -> Proposal:
    """Draft → discussion."""
    proposal = _locked(proposal)
    _require_author(actor, proposal)
    if proposal.status != ProposalStatus.DRAFT:
        raise DomainError(
            "only a draft can be opened for discussion", code="bad_status", status_code=409
        )
    proposal.status = ProposalStatus.DISCUSSION
    proposal.discussion_started_at = timezone.now()
    proposal.save(update_fields=["status", "discussion_started_at", "updated_at"])
    audit_record(actor=actor, action="governance.proposal.discussion", obj=proposal)
    _status_event(proposal)
    return proposal


@transaction.atomic
def proposal_second(*, actor: Any, proposal: Proposal) -> int:
    """A member other than the author supports moving the proposal to a vote."""
    proposal = Proposal.objects.get(pk=proposal.pk)
    if proposal.status != ProposalStatus.DISCUSSION:
        raise DomainError(
            "only proposals under discussion can be seconded", code="bad_status", status_code=409
        )
    if proposal.author_id == actor.pk:
        raise DomainError("authors cannot second their own proposal", code="own_proposal")
    ProposalSecond.objects.bulk_create(
        [ProposalSecond(proposal=proposal, user=actor)], ignore_conflicts=True
    )
    count = proposal.seconds.count()
    proposal_event(proposal.pk, "proposal.seconds", {"seconds": count})
    return count


@transaction.atomic
def proposal_withdraw(*, actor: Any, proposal: Proposal) -> Proposal:
    proposal = _locked(proposal)
    _require_author(actor, proposal)
    if proposal.status in CLOSED_STATUSES_VALUES or proposal.status == ProposalStatus.VOTING:
        raise DomainError(
            "this proposal can no longer be withdrawn", code="bad_status", status_code=409
        )
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.closed_at = timezone.now()
    proposal.save(update_fields=["status", "closed_at", "updated_at"])
    audit_record(actor=actor, action="governance.proposal.withdraw", obj=proposal)
    _status_event(proposal)
    return proposal


def _may_open_vote(actor: Any, proposal: Proposal, opener: str) -> bool:
    if opener == VoteOpener.STEWARD:
        return bool(actor.has_role("steward"))
    if opener == VoteOpener.MAINTAINER:
        return bool(actor.has_role("maintainer"))
    return proposal.author_id == actor.pk or bool(actor.has_role("steward"))


@transaction.atomic
def proposal_open_vote(*, actor: Any, proposal: Proposal, **poll_fields: Any) -> Poll:
    """Discussion → voting: checks the category's discussion period, seconds and who may
    open the vote, then creates and opens the proposal's poll (yes/no unless given)."""
    from governance.services.polls import poll_create, poll_open

    proposal = _locked(proposal)
    rules = category_settings_get(proposal.category)
    if proposal.status != ProposalStatus.DISCUSSION:
        raise DomainError(
            "only proposals under discussion can go to a vote", code="bad_status", status_code=409
        )
    if not _may_open_vote(actor, proposal, rules.vote_opener):
        raise DomainError(
            f"in {proposal.category}, a vote is opened by: {rules.vote_opener}",
            code="not_allowed",
            status_code=403,
        )
    started = proposal.discussion_started_at or proposal.created_at
    ready_at = started + timedelta(days=rules.min_discussion_days)
    if timezone.now() < ready_at:
        raise DomainError(
            f"discussion runs until {ready_at:%Y-%m-%d %H:%M} UTC",
            code="discussion_too_short",
            status_code=409,
        )
    seconds = proposal.seconds.count()
    if seconds < rules.seconds_required:
        raise DomainError(
            f"{rules.seconds_required} seconds needed, {seconds} so far",
            code="not_enough_seconds",
            status_code=409,
        )
    poll_fields.setdefault("title", proposal.title)
    poll_fields.setdefault("method", "yes_no")
    poll_fields.setdefault("closes_at", timezone.now() + timedelta(days=7))
    poll_fields.setdefault("allow_delegation", rules.delegation_enabled)
    poll = poll_create(actor=actor, proposal=proposal, **poll_fields)
    proposal.status = ProposalStatus.VOTING
    proposal.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor, action="governance.proposal.voting", obj=proposal, detail={"poll": poll.pk}
    )
    if poll.opens_at is None or poll.opens_at <= timezone.now():
        poll = poll_open(poll=poll, actor=actor)
    _status_event(proposal)
    return poll


@transaction.atomic
def proposal_outcome_record(*, actor: Any, proposal: Proposal, outcome: str) -> Proposal:
    """Author or steward records the outcome statement of an accepted proposal."""
    if proposal.status != ProposalStatus.ACCEPTED:
        raise DomainError(
            "only accepted proposals record an outcome", code="bad_status", status_code=409
        )
    if proposal.author_id != actor.pk and not actor.has_role("steward"):
        raise DomainError("only the author or a steward", code="not_allowed", status_code=403)
    proposal.outcome = outcome
    proposal.save(update_fields=["outcome", "updated_at"])
    audit_record(actor=actor, action="governance.proposal.outcome", obj=proposal)
    return proposal


@transaction.atomic
def category_settings_update(*, actor: Any, category: str, **fields: Any) -> CategorySettings:
    if not actor.has_role("steward"):
        raise DomainError("only stewards configure categories", code="not_allowed", status_code=403)
    settings = category_settings_get(category)
    allowed = {"min_discussion_days", "seconds_required", "vote_opener", "delegation_enabled"}
    for name, value in fields.items():
        if name not in allowed:
            raise DomainError(f"unknown setting {name!r}", code="unknown_setting")
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    audit_record(
        actor=actor,
        action="governance.category.update",
        obj=settings,
        detail={k: str(v) for k, v in fields.items()},
    )
    return settings


def _mentions_apply(comment: Comment) -> None:
    names = mentions_find(comment.body)
    users = get_user_model().objects.filter(username__in=names) if names else []
    comment.mentions.set(users)


@transaction.atomic
def comment_create(
    *, actor: Any, proposal: Proposal, body: str, parent: Comment | None = None
) -> Comment:
    if not (body or "").strip():
        raise DomainError("a comment cannot be empty", code="empty_comment")
    if proposal.status == ProposalStatus.DRAFT and proposal.author_id != actor.pk:
        raise DomainError("drafts are not open for discussion", code="bad_status", status_code=409)
    if parent is not None and parent.proposal_id != proposal.pk:
        raise DomainError("the parent comment belongs to another proposal", code="bad_parent")
    comment = Comment.objects.create(proposal=proposal, parent=parent, author=actor, body=body)
    _mentions_apply(comment)
    proposal_event(
        proposal.pk,
        "comment.created",
        {"id": comment.pk, "parent": parent.pk if parent else None, "author": actor.name},
    )
    return comment


@transaction.atomic
def comment_edit(*, actor: Any, comment: Comment, body: str) -> Comment:
    """Edit a comment, keeping the previous body as an edit history entry."""
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.author_id != actor.pk:
        raise DomainError("only the author may edit a comment", code="not_author", status_code=403)
    if not (body or "").strip():
        raise DomainError("a comment cannot be empty", code="empty_comment")
    if body != comment.body:
        CommentEdit.objects.create(comment=comment, body=comment.body)
        comment.body = body
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "edited_at"])
        _mentions_apply(comment)
        proposal_event(comment.proposal_id, "comment.edited", {"id": comment.pk})
    return comment


@transaction.atomic
def reaction_toggle(*, actor: Any, comment: Comment, emoji: str) -> bool:
    """Add the reaction, or remove it if present; returns whether it is now present."""
    emoji = (emoji or "").strip()
    if not emoji or len(emoji) > 16:
        raise DomainError("a reaction is one short emoji", code="bad_reaction")
    deleted, _ = Reaction.objects.filter(comment=comment, user=actor, emoji=emoji).delete()
    if not deleted:
        Reaction.objects.bulk_create(
            [Reaction(comment=comment, user=actor, emoji=emoji)], ignore_conflicts=True
        )
    proposal_event(comment.proposal_id, "comment.reaction", {"id": comment.pk})
    return not deleted


def proposal_roadmap_task_create(
    *, actor: Any, proposal: Proposal, title: str, key: str = "GOV"
) -> Any:
    """Turn an accepted proposal into a roadmap task linked back to it (the roadmap owns
    tasks and decides who may plan them)."""
    from community.roadmap.services import task_create

    proposal = Proposal.objects.get(pk=proposal.pk)
    if proposal.status != ProposalStatus.ACCEPTED:
        raise DomainError(
            "only accepted proposals become roadmap tasks", code="bad_status", status_code=409
        )
    description = f"From proposal #{proposal.pk}: {proposal.title}"
    if proposal.outcome:
        description += f"\n\nOutcome: {proposal.outcome}"
    task = task_create(
        actor=actor,
        key=key,
        title=title or proposal.title,
        description=description,
        proposal=proposal,
    )
    audit_record(
        actor=actor,
        action="governance.proposal.roadmap_task",
        obj=proposal,
        detail={"task": task.code},
    )
    return task
