"""Badges: automatic rules and stewards' custom awards."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from community.defaults import defaults_ensure
from community.models import (
    Badge,
    BadgeAward,
    Contribution,
    ContributionStatus,
    Contributor,
    Epoch,
    Review,
)
from portal.api.errors import DomainError
from portal.audit import audit_record

if TYPE_CHECKING:
    from community.services.epochs import AllocationRow

REVIEWS_FOR_BADGE = 10


def _award(
    *,
    slug: str,
    contributor: Contributor,
    epoch: Epoch | None = None,
    actor: Any = None,
    reason: str = "",
) -> BadgeAward | None:
    badge = Badge.objects.filter(slug=slug).first()
    if badge is None:
        defaults_ensure()
        badge = Badge.objects.get(slug=slug)
    lookup = {"badge": badge, "contributor": contributor, "epoch": epoch}
    if BadgeAward.objects.filter(**lookup).exists():
        return None
    try:
        with transaction.atomic():
            award = BadgeAward.objects.create(**lookup, awarded_by=actor, reason=reason[:300])
    except IntegrityError:
        return None
    audit_record(
        actor=actor,
        action="badge.award",
        obj=award,
        detail={"badge": slug, "contributor": contributor.pk},
    )
    return award


def badges_after_review(*, contribution: Contribution, reviewer: Any) -> None:
    """First contribution, security reporter (for the author); 10 reviews (reviewer)."""
    from community.services.contributions import contributor_for

    if contribution.status == ContributionStatus.APPROVED and contribution.contributor:
        _award(slug="first-contribution", contributor=contribution.contributor)
        if contribution.type.slug == "security":
            _award(slug="security-reporter", contributor=contribution.contributor)
    if Review.objects.filter(reviewer=reviewer).count() >= REVIEWS_FOR_BADGE:
        _award(slug="ten-reviews", contributor=contributor_for(reviewer))


def badges_after_epoch(*, epoch: Epoch, rows: Sequence[AllocationRow]) -> None:
    """The three highest-scoring contributors of the epoch (ties broken by id)."""
    top = sorted(
        (r for r in rows if r.points > 0 or r.give_received > 0),
        key=lambda r: (-r.points, -r.give_received, r.contributor_id),
    )[:3]
    for row in top:
        _award(slug="epoch-top-3", contributor=Contributor(pk=row.contributor_id), epoch=epoch)


@transaction.atomic
def badge_create(
    *, actor: Any, slug: str, name: str, description: str = "", icon: str = ""
) -> Badge:
    if not actor.is_steward:
        raise DomainError("only stewards create badges", code="forbidden", status_code=403)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", slug or ""):
        raise DomainError(
            "slug: lowercase letters, digits and -",
            code="invalid",
            fields={"slug": ["lowercase letters, digits and -"]},
        )
    if Badge.objects.filter(slug=slug).exists():
        raise DomainError(f"badge {slug} exists", code="duplicate_badge", status_code=409)
    badge = Badge.objects.create(
        slug=slug, name=name[:80] or slug, description=description[:300], icon=icon[:8]
    )
    audit_record(actor=actor, action="badge.create", obj=badge)
    return badge


@transaction.atomic
def badge_award(*, actor: Any, slug: str, contributor_id: int, reason: str = "") -> BadgeAward:
    """A steward awards a custom badge."""
    if not actor.is_steward:
        raise DomainError("only stewards award badges", code="forbidden", status_code=403)
    badge = Badge.objects.filter(slug=slug).first()
    if badge is None:
        raise DomainError(f"unknown badge {slug!r}", code="unknown_badge")
    if badge.automatic:
        raise DomainError(
            "automatic badges are awarded by their rules", code="automatic_badge", status_code=409
        )
    contributor = Contributor.objects.filter(pk=contributor_id).first()
    if contributor is None:
        raise DomainError("no such contributor", code="not_found", status_code=404)
    award = _award(slug=slug, contributor=contributor, actor=actor, reason=reason)
    if award is None:
        raise DomainError("already awarded", code="already_awarded", status_code=409)
    return award
