"""Governance reads, scoped to the requesting user."""

from __future__ import annotations

import difflib
from typing import Any

from django.db.models import Count, Q, QuerySet

from governance.models import (
    Ballot,
    Delegation,
    EligibleVoter,
    Participation,
    Poll,
    PollStatus,
    Proposal,
    ProposalStatus,
    Visibility,
)


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def proposals_visible(*, user: Any) -> QuerySet[Proposal]:
    """Public non-draft proposals for everyone; members also see non-public ones; drafts
    only by their author (and stewards)."""
    qs = Proposal.objects.select_related("author").prefetch_related("tags")
    if not _authenticated(user):
        return qs.filter(is_public=True).exclude(status=ProposalStatus.DRAFT)
    if user.has_role("steward"):
        return qs
    return qs.filter(~Q(status=ProposalStatus.DRAFT) | Q(author=user))


def proposals_filter(
    *,
    user: Any,
    status: str = "",
    category: str = "",
    tag: str = "",
    search: str = "",
) -> QuerySet[Proposal]:
    qs = proposals_visible(user=user)
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if tag:
        qs = qs.filter(tags__name=tag)
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(body__icontains=search))
    return (
        qs.annotate(comment_count=Count("comments", distinct=True))
        .distinct()
        .order_by("-created_at", "-id")
    )


def proposals_similar(
    *, user: Any, title: str, body: str = "", limit: int = 5, threshold: float = 0.45
) -> list[tuple[Proposal, float]]:
    """Proposals whose title (mostly) and body resemble a draft's — a hint against
    duplicates. Plain difflib ratios over the most recent 500 visible proposals."""
    text = f"{title} {body[:500]}".lower()
    scored: list[tuple[Proposal, float]] = []
    for proposal in proposals_visible(user=user).order_by("-created_at")[:500]:
        ratio = 0.7 * difflib.SequenceMatcher(None, title.lower(), proposal.title.lower()).ratio()
        ratio += (
            0.3
            * difflib.SequenceMatcher(
                None, text, f"{proposal.title} {proposal.body[:500]}".lower()
            ).quick_ratio()
        )
        if ratio >= threshold:
            scored.append((proposal, round(ratio, 3)))
    scored.sort(key=lambda item: -item[1])
    return scored[:limit]


def polls_visible(*, user: Any) -> QuerySet[Poll]:
    """Public polls for everyone; members see every poll not tied to a hidden draft."""
    qs = Poll.objects.select_related("proposal")
    if not _authenticated(user):
        return qs.filter(is_public=True)
    if user.has_role("steward"):
        return qs
    return qs.filter(
        Q(proposal__isnull=True)
        | ~Q(proposal__status=ProposalStatus.DRAFT)
        | Q(proposal__author=user)
        | Q(created_by=user)
    )


def poll_may_manage(*, poll: Poll, user: Any) -> bool:
    """May ``user`` edit, open or close ``poll``? Its creator and stewards may."""
    return _authenticated(user) and (poll.created_by_id == user.pk or user.has_role("steward"))


def poll_results_visible(*, poll: Poll) -> bool:
    """Secret and anonymous-on-close polls show results only after close; named polls
    show the running tally."""
    return poll.status == PollStatus.CLOSED or poll.visibility == Visibility.NAMED


def poll_is_eligible(*, poll: Poll, user: Any) -> bool:
    if not _authenticated(user):
        return False
    if poll.status == PollStatus.DRAFT:
        return False
    return EligibleVoter.objects.filter(poll=poll, user=user).exists()


def poll_has_voted(*, poll: Poll, user: Any) -> bool:
    return _authenticated(user) and Participation.objects.filter(poll=poll, user=user).exists()


def ballot_mine(*, poll: Poll, user: Any) -> Ballot | None:
    """The user's own ballot where a voter link exists (named; anonymous until close).
    Secret ballots have no owner: only participation is known."""
    if not _authenticated(user) or poll.visibility == Visibility.SECRET:
        return None
    return Ballot.objects.filter(poll=poll, voter=user).first()


def ballots_published(*, poll: Poll) -> list[dict[str, Any]]:
    """The ballot list anyone may use to recompute the tally: live for named polls, after
    close otherwise; voter names only for named polls."""
    if not poll_results_visible(poll=poll):
        return []
    rows = Ballot.objects.filter(poll=poll).select_related("voter").order_by("receipt")
    named = poll.visibility == Visibility.NAMED
    return [
        {
            "receipt": b.receipt,
            "choice": b.choice,
            "weight": format(b.weight.normalize(), "f"),
            **({"voter": b.voter.name if b.voter else None} if named else {}),
        }
        for b in rows
    ]


def participation_count(*, poll: Poll | int) -> int:
    return Participation.objects.filter(poll=poll).count()


def delegations_of(*, user: Any) -> QuerySet[Delegation]:
    return Delegation.objects.filter(delegator=user).select_related("delegate")


def delegations_to(*, user: Any) -> QuerySet[Delegation]:
    return Delegation.objects.filter(delegate=user).select_related("delegator")


def delegation_weight_carried(*, poll: Poll, user: Any) -> int:
    """How many eligible members' votes would flow (transitively) to ``user`` in ``poll``
    if none of them votes directly."""
    hops = dict(
        EligibleVoter.objects.filter(poll=poll, delegate__isnull=False).values_list(
            "user_id", "delegate_id"
        )
    )
    carried = 0
    for start in hops:
        current, seen = hops.get(start), {start}
        while current is not None and current not in seen:
            if current == user.pk:
                carried += 1
                break
            seen.add(current)
            current = hops.get(current)
    return carried


def delegate_ballots_named(*, user: Any) -> list[dict[str, Any]]:
    """How the user's delegates voted on named polls the user was eligible in."""
    entries = EligibleVoter.objects.filter(
        user=user, delegate__isnull=False, poll__visibility=Visibility.NAMED
    ).select_related("poll", "delegate")
    result = []
    for entry in entries:
        ballot = Ballot.objects.filter(poll=entry.poll, voter=entry.delegate).first()
        result.append(
            {
                "poll": entry.poll,
                "delegate": entry.delegate,
                "choice": ballot.choice if ballot else None,
            }
        )
    return result
