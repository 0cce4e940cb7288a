"""Contributor profiles, claims and the review state machine."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from community.defaults import defaults_ensure
from community.models import (
    Contribution,
    ContributionStatus,
    ContributionType,
    Contributor,
    Review,
    ReviewDecision,
    ScoringCategory,
)
from community.models.contributions import ContributionSource, Effort
from community.topics import ContributionApprovedEvent, community_publish
from portal.api.errors import DomainError
from portal.audit import audit_record

GITHUB_HANDLE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def contributor_for(user: Any) -> Contributor:
    """The user's contributor profile, created on first use (linked to their GitHub handle)."""
    contributor = Contributor.objects.filter(user=user).first()
    if contributor is not None:
        return contributor
    handle = (getattr(user, "github_handle", "") or "").strip()
    if handle and Contributor.objects.filter(github_handle__iexact=handle).exists():
        handle = ""
    try:
        with transaction.atomic():
            contributor = Contributor.objects.create(user=user, github_handle=handle)
    except IntegrityError:
        return Contributor.objects.get(user=user)
    if handle:
        _attach_unclaimed(contributor)
    return contributor


def _attach_unclaimed(contributor: Contributor) -> int:
    return Contribution.objects.filter(
        contributor__isnull=True, github_login__iexact=contributor.github_handle
    ).update(contributor=contributor)


@transaction.atomic
def contributor_update(
    *,
    contributor: Contributor,
    actor: Any,
    github_handle: str | None = None,
    opt_out_money: bool | None = None,
    opt_out_listing: bool | None = None,
) -> Contributor:
    """Change linked identity or opt-outs. Linking a handle claims its unclaimed work."""
    if actor.pk != contributor.user_id and not actor.is_steward:
        raise DomainError("you can only change your own profile", code="forbidden", status_code=403)
    changes: dict[str, Any] = {}
    if github_handle is not None:
        handle = github_handle.strip().lstrip("@")
        if handle and not GITHUB_HANDLE_RE.match(handle):
            raise DomainError(
                f"{handle!r} is not a valid GitHub handle",
                code="invalid_handle",
                fields={"github_handle": ["not a valid GitHub handle"]},
            )
        taken = Contributor.objects.filter(github_handle__iexact=handle).exclude(pk=contributor.pk)
        if handle and taken.exists():
            raise DomainError(
                f"GitHub handle {handle} is already linked to another contributor",
                code="handle_taken",
                status_code=409,
            )
        if handle != contributor.github_handle:
            contributor.github_handle = handle
            changes["github_handle"] = handle
    if opt_out_money is not None and opt_out_money != contributor.opt_out_money:
        contributor.opt_out_money = opt_out_money
        changes["opt_out_money"] = opt_out_money
    if opt_out_listing is not None and opt_out_listing != contributor.opt_out_listing:
        contributor.opt_out_listing = opt_out_listing
        changes["opt_out_listing"] = opt_out_listing
    if not changes:
        return contributor
    contributor.save(update_fields=list(changes))
    attached = _attach_unclaimed(contributor) if changes.get("github_handle") else 0
    audit_record(
        actor=actor,
        action="contributor.update",
        obj=contributor,
        detail={**changes, "attached": attached},
    )
    return contributor


def contribution_type_get(slug: Any) -> ContributionType:
    defaults_ensure()
    kind = ContributionType.objects.filter(slug=str(slug or ""), active=True).first()
    if kind is None:
        raise DomainError(
            f"unknown contribution type {slug!r}",
            code="unknown_type",
            fields={"type": [f"unknown contribution type {slug!r}"]},
        )
    return kind


@transaction.atomic
def contribution_type_create(
    *,
    actor: Any,
    slug: str,
    name: str,
    category: str,
    required_approvals: int = 1,
    emoji: str = "",
) -> ContributionType:
    """A steward adds a custom contribution type mapped to a scoring category."""
    if not actor.is_steward:
        raise DomainError("only stewards add contribution types", code="forbidden", status_code=403)
    defaults_ensure()
    if category not in ScoringCategory.values:
        raise DomainError(
            f"unknown scoring category {category!r}",
            code="unknown_category",
            fields={"category": [f"one of {', '.join(ScoringCategory.values)}"]},
        )
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{1,39}", slug or ""):
        raise DomainError(
            "slug: letters, digits, - and _ only",
            code="invalid",
            fields={"slug": ["letters, digits, - and _ only"]},
        )
    if not 1 <= int(required_approvals) <= 5:
        raise DomainError(
            "required approvals must be 1 to 5",
            code="invalid",
            fields={"required_approvals": ["1 to 5"]},
        )
    if ContributionType.objects.filter(slug=slug).exists():
        raise DomainError(f"type {slug} already exists", code="duplicate_type", status_code=409)
    kind = ContributionType.objects.create(
        slug=slug,
        name=name[:80] or slug,
        category=category,
        emoji=emoji[:8],
        required_approvals=int(required_approvals),
        is_custom=True,
    )
    audit_record(
        actor=actor,
        action="contribution_type.create",
        obj=kind,
        detail={"slug": slug, "category": category},
    )
    return kind


@transaction.atomic
def contribution_claim(
    *,
    user: Any,
    type_slug: str,
    title: str,
    description: str = "",
    link: str = "",
    effort: str = Effort.MEDIUM,
) -> Contribution:
    """A member claims a contribution; it waits for review."""
    kind = contribution_type_get(type_slug)
    title = (title or "").strip()
    if not title:
        raise DomainError(
            "title: describe the contribution in a few words",
            code="invalid",
            fields={"title": ["required"]},
        )
    if effort not in Effort.values:
        raise DomainError(
            f"effort must be one of {', '.join(Effort.values)}",
            code="invalid",
            fields={"effort": [f"one of {', '.join(Effort.values)}"]},
        )
    contributor = contributor_for(user)
    contribution = Contribution.objects.create(
        contributor=contributor,
        type=kind,
        title=title[:200],
        description=description,
        link=link,
        effort=effort,
        source=ContributionSource.CLAIM,
    )
    audit_record(
        actor=user,
        action="contribution.claim",
        obj=contribution,
        detail={"type": kind.slug, "title": contribution.title},
    )
    return contribution


def _is_own(contribution: Contribution, user: Any) -> bool:
    if contribution.contributor_id is not None:
        return bool(contribution.contributor and contribution.contributor.user_id == user.pk)
    handle = (getattr(user, "github_handle", "") or "").lower()
    own = Contributor.objects.filter(user=user).values_list("github_handle", flat=True).first()
    handles = {h for h in (handle, (own or "").lower()) if h}
    return contribution.github_login.lower() in handles


@transaction.atomic
def contribution_review(
    *,
    contribution_id: int,
    reviewer: Any,
    decision: str,
    reason: str = "",
    rating: int | None = None,
) -> Review:
    """Record a maintainer's decision and move the state machine.

    pending → approved (after the type's N approvals) / rejected / changes requested.
    """
    if decision not in ReviewDecision.values:
        raise DomainError(
            f"decision must be one of {', '.join(ReviewDecision.values)}",
            code="invalid",
            fields={"decision": ["unknown decision"]},
        )
    if not reviewer.is_maintainer:
        raise DomainError(
            "only maintainers review contributions", code="forbidden", status_code=403
        )
    contribution = (
        Contribution.objects.select_for_update(of=("self",))
        .select_related("type", "contributor")
        .filter(pk=contribution_id)
        .first()
    )
    if contribution is None:
        raise DomainError("no such contribution", code="not_found", status_code=404)
    if _is_own(contribution, reviewer):
        raise DomainError(
            "you cannot review your own contribution", code="self_review", status_code=403
        )
    if contribution.status != ContributionStatus.PENDING:
        raise DomainError(
            f"this contribution is {contribution.get_status_display().lower()}, not pending review",
            code="not_pending",
            status_code=409,
        )
    if rating is not None and not 1 <= int(rating) <= 5:
        raise DomainError("rating must be 1 to 5", code="invalid", fields={"rating": ["1 to 5"]})
    if decision != ReviewDecision.APPROVE and not reason.strip():
        raise DomainError(
            "give a reason when rejecting or requesting changes",
            code="reason_required",
            fields={"reason": ["required"]},
        )
    if (
        decision == ReviewDecision.APPROVE
        and contribution.reviews.filter(reviewer=reviewer, decision=ReviewDecision.APPROVE).exists()
    ):
        raise DomainError(
            "you already approved this contribution", code="double_approval", status_code=409
        )
    try:
        with transaction.atomic():
            review = Review.objects.create(
                contribution=contribution,
                reviewer=reviewer,
                decision=decision,
                reason=reason.strip(),
                rating=rating,
            )
    except IntegrityError:
        raise DomainError(
            "you already approved this contribution", code="double_approval", status_code=409
        ) from None
    before = contribution.status
    if decision == ReviewDecision.APPROVE:
        approvals = contribution.reviews.filter(decision=ReviewDecision.APPROVE).count()
        if approvals >= contribution.type.required_approvals:
            contribution.status = ContributionStatus.APPROVED
            contribution.approved_at = timezone.now()
    elif decision == ReviewDecision.REJECT:
        contribution.status = ContributionStatus.REJECTED
    else:
        contribution.status = ContributionStatus.CHANGES_REQUESTED
    contribution.save(update_fields=["status", "approved_at"])
    audit_record(
        actor=reviewer,
        action=f"contribution.review.{decision}",
        obj=contribution,
        detail={
            "from": before,
            "to": contribution.status,
            "reason": review.reason,
            "rating": rating,
        },
    )
    from community.services.badges import badges_after_review

    badges_after_review(contribution=contribution, reviewer=reviewer)
    if contribution.status == ContributionStatus.APPROVED:
        event: ContributionApprovedEvent = {
            "id": contribution.pk,
            "title": contribution.title,
            "type": contribution.type.slug,
            "contributor": (
                contribution.contributor.name
                if contribution.contributor
                else contribution.github_login
            ),
        }
        community_publish("contribution.approved", event)
    return review


@transaction.atomic
def contribution_resubmit(
    *, contribution_id: int, user: Any, description: str | None = None, link: str | None = None
) -> Contribution:
    """After changes were requested, the contributor sends it back for review."""
    contribution = (
        Contribution.objects.select_for_update(of=("self",))
        .select_related("contributor")
        .filter(pk=contribution_id)
        .first()
    )
    if contribution is None or not _is_own(contribution, user):
        raise DomainError("no such contribution of yours", code="not_found", status_code=404)
    if contribution.status != ContributionStatus.CHANGES_REQUESTED:
        raise DomainError(
            "only contributions with changes requested can be resubmitted",
            code="not_changes_requested",
            status_code=409,
        )
    if description is not None:
        contribution.description = description
    if link is not None:
        contribution.link = link
    contribution.status = ContributionStatus.PENDING
    contribution.save(update_fields=["status", "description", "link"])
    audit_record(
        actor=user,
        action="contribution.resubmit",
        obj=contribution,
        detail={"from": "changes_requested", "to": "pending"},
    )
    return contribution


@transaction.atomic
def contribution_from_roadmap(
    *,
    user: Any,
    task_id: int | str,
    title: str,
    type_slug: str = "code",
    link: str = "",
    description: str = "",
    effort: str = Effort.MEDIUM,
) -> Contribution:
    """A roadmap task marked done becomes a contribution awaiting review (once per task)."""
    external_id = f"roadmap:task:{task_id}"
    existing = Contribution.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing
    kind = contribution_type_get(type_slug)
    if effort not in Effort.values:
        effort = Effort.MEDIUM
    contribution = Contribution.objects.create(
        contributor=contributor_for(user),
        type=kind,
        title=(title or "Roadmap task")[:200],
        description=description[:5000],
        link=link[:500],
        effort=effort,
        source=ContributionSource.ROADMAP,
        external_id=external_id,
    )
    audit_record(
        actor=user, action="contribution.roadmap", obj=contribution, detail={"task": str(task_id)}
    )
    return contribution
