"""Reads, scoped to the requesting user where rules apply."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from community.models import (
    Account,
    AccountKind,
    Allocation,
    Contribution,
    ContributionStatus,
    Contributor,
    Epoch,
    LedgerTransaction,
    Payout,
)
from community.services.scoring import PolicyScorer, policy_current

if TYPE_CHECKING:
    from community.services.epochs import AllocationRow


def contributions_visible(user: Any) -> QuerySet[Contribution]:
    """Approved work is public; pending/rejected only to its author and maintainers."""
    qs = Contribution.objects.select_related("type", "contributor__user")
    if getattr(user, "is_authenticated", False) and user.is_maintainer:
        return qs
    public = Q(status=ContributionStatus.APPROVED) & ~Q(contributor__opt_out_listing=True)
    if getattr(user, "is_authenticated", False):
        return qs.filter(public | Q(contributor__user=user))
    return qs.filter(public)


def review_queue(user: Any) -> QuerySet[Contribution]:
    """Pending contributions a maintainer may review (never their own)."""
    return (
        Contribution.objects.select_related("type", "contributor__user")
        .filter(status=ContributionStatus.PENDING)
        .exclude(contributor__user=user)
        .order_by("created_at", "id")
    )


def payouts_visible(user: Any) -> QuerySet[Payout]:
    qs = Payout.objects.select_related("contributor__user", "currency").prefetch_related(
        "approvals"
    )
    if user.is_steward:
        return qs
    return qs.filter(contributor__user=user)


def transactions_visible(user: Any) -> QuerySet[LedgerTransaction]:
    """Stewards see the whole ledger; others only transactions touching their accounts."""
    qs = LedgerTransaction.objects.prefetch_related("entries__account")
    if user.is_steward:
        return qs
    return qs.filter(entries__account__contributor__user=user).distinct()


def balances_visible(user: Any) -> QuerySet[Account]:
    qs = Account.objects.select_related("cached_balance", "contributor__user", "currency")
    if user.is_steward:
        return qs
    return qs.filter(kind=AccountKind.CONTRIBUTOR, contributor__user=user)


def leaderboard_epoch(
    epoch: Epoch, *, limit: int = 100, rows: Sequence[AllocationRow] | None = None
) -> list[dict[str, Any]]:
    """An epoch's ranking (frozen when closed, live preview when open), opt-outs hidden.

    Pass ``rows`` when the caller already has the allocation (the preview is not free).
    """
    from community.services.epochs import epoch_allocations

    if rows is None:
        rows = epoch_allocations(epoch)
    hidden = set(
        Contributor.objects.filter(
            id__in=[r.contributor_id for r in rows], opt_out_listing=True
        ).values_list("id", flat=True)
    )
    names = _names([r.contributor_id for r in rows if r.contributor_id not in hidden][:limit])
    board = []
    for row in rows:
        if row.contributor_id in hidden:
            continue
        board.append(
            {
                "contributor_id": row.contributor_id,
                "name": names.get(row.contributor_id, ""),
                "points": str(row.points),
                "give_received": row.give_received,
                "amount": str(row.amount),
                "contributions": row.contributions,
            }
        )
        if len(board) >= limit:
            break
    for position, item in enumerate(board, start=1):
        item["rank"] = position
    return board


def leaderboard_all_time(*, limit: int = 100) -> list[dict[str, Any]]:
    """Points over closed epochs plus this epoch's approved work, opt-outs hidden."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    counts: dict[int, int] = defaultdict(int)
    for cid, points, contributions in Allocation.objects.values_list(
        "contributor_id", "points", "contributions"
    ):
        totals[cid] += points
        counts[cid] += contributions
    scorer = PolicyScorer(policy_current())
    for cid, slug, category, effort in Contribution.objects.filter(
        status=ContributionStatus.APPROVED, epoch__isnull=True, contributor__isnull=False
    ).values_list("contributor_id", "type__slug", "type__category", "effort"):
        totals[cid] += scorer.points(type_slug=slug, category=category, effort=effort)
        counts[cid] += 1
    hidden = set(Contributor.objects.filter(opt_out_listing=True).values_list("id", flat=True))
    ranked = sorted(
        ((cid, pts) for cid, pts in totals.items() if cid not in hidden),
        key=lambda item: (-item[1], item[0]),
    )[:limit]
    names = _names([cid for cid, _ in ranked])
    return [
        {
            "rank": i,
            "contributor_id": cid,
            "name": names.get(cid, ""),
            "points": str(pts),
            "contributions": counts[cid],
        }
        for i, (cid, pts) in enumerate(ranked, start=1)
    ]


def _names(ids: list[int]) -> dict[int, str]:
    return {c.pk: c.name for c in Contributor.objects.filter(id__in=ids).select_related("user")}


def metrics_rolling(*, now: Any = None) -> dict[str, Any]:
    """Approved contributions and points for today / 7 days / 30 days, by type and category."""
    now = now or timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    windows = {"today": today, "7d": now - timedelta(days=7), "30d": now - timedelta(days=30)}
    scorer = PolicyScorer(policy_current())
    rows = list(
        Contribution.objects.filter(
            status=ContributionStatus.APPROVED, approved_at__gte=windows["30d"]
        ).values_list("approved_at", "type__slug", "type__category", "effort")
    )
    result: dict[str, Any] = {}
    for label, since in windows.items():
        by_type: dict[str, dict[str, Any]] = {}
        by_category: dict[str, dict[str, Any]] = {}
        total_points = Decimal(0)
        count = 0
        for approved_at, slug, category, effort in rows:
            if approved_at < since:
                continue
            points = scorer.points(type_slug=slug, category=category, effort=effort)
            for bucket, key in ((by_type, slug), (by_category, category)):
                entry = bucket.setdefault(key, {"contributions": 0, "points": Decimal(0)})
                entry["contributions"] += 1
                entry["points"] += points
            total_points += points
            count += 1
        result[label] = {
            "contributions": count,
            "points": str(total_points),
            "by_type": {
                k: {"contributions": v["contributions"], "points": str(v["points"])}
                for k, v in sorted(by_type.items())
            },
            "by_category": {
                k: {"contributions": v["contributions"], "points": str(v["points"])}
                for k, v in sorted(by_category.items())
            },
        }
    days = []
    for offset in range(29, -1, -1):
        start = today - timedelta(days=offset)
        end = start + timedelta(days=1)
        days.append(
            {
                "date": start.date().isoformat(),
                "contributions": sum(1 for r in rows if start <= r[0] < end),
            }
        )
    result["daily"] = days
    return result


def all_contributors_export(*, project_name: str = "agora", owner: str = "agora") -> dict[str, Any]:
    """An ``.all-contributorsrc`` document: contributors with approved work, opt-outs hidden."""
    types: dict[int, set[str]] = defaultdict(set)
    for cid, slug in (
        Contribution.objects.filter(
            status=ContributionStatus.APPROVED,
            contributor__isnull=False,
            contributor__opt_out_listing=False,
        )
        .values_list("contributor_id", "type__slug")
        .distinct()
    ):
        types[cid].add(slug)
    people = Contributor.objects.filter(id__in=list(types)).select_related("user").order_by("id")
    contributors = []
    for person in people:
        login = person.github_handle or person.user.username
        contributors.append(
            {
                "login": login,
                "name": person.name,
                "avatar_url": f"https://github.com/{person.github_handle}.png"
                if person.github_handle
                else "",
                "profile": f"https://github.com/{person.github_handle}"
                if person.github_handle
                else f"/community/contributors/{person.pk}/",
                "contributions": sorted(types[person.pk]),
            }
        )
    return {
        "projectName": project_name,
        "projectOwner": owner,
        "repoType": "github",
        "repoHost": "https://github.com",
        "files": ["README.md"],
        "imageSize": 100,
        "commit": False,
        "commitConvention": "none",
        "contributorsPerLine": 7,
        "contributors": contributors,
    }


def contributor_points_total(contributor: Contributor) -> Decimal:
    closed = Allocation.objects.filter(contributor=contributor).aggregate(p=Sum("points"))["p"]
    scorer = PolicyScorer(policy_current())
    current = sum(
        (
            scorer.points(type_slug=s, category=c, effort=e)
            for s, c, e in Contribution.objects.filter(
                contributor=contributor, status=ContributionStatus.APPROVED, epoch__isnull=True
            ).values_list("type__slug", "type__category", "effort")
        ),
        Decimal(0),
    )
    return (closed or Decimal(0)) + current
