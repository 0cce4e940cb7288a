from __future__ import annotations

import pytest

from community.models import ContributionStatus, ReviewDecision
from community.services.contributions import (
    contribution_claim,
    contribution_resubmit,
    contribution_review,
    contributor_for,
    contributor_update,
)
from portal.api.errors import DomainError
from portal.models import AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_claim_waits_for_review_and_one_approval_approves(member, maintainer):
    contribution = contribution_claim(user=member, type_slug="doc", title="Install guide")
    assert contribution.status == ContributionStatus.PENDING
    contribution_review(
        contribution_id=contribution.pk, reviewer=maintainer, decision="approve", rating=4
    )
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.APPROVED
    assert contribution.approved_at is not None
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "contribution.claim" in actions and "contribution.review.approve" in actions


def test_unknown_type_refused(member):
    with pytest.raises(DomainError) as exc:
        contribution_claim(user=member, type_slug="juggling", title="x")
    assert exc.value.code == "unknown_type"


def test_financial_needs_two_different_approvals(member, maintainer):
    contribution = contribution_claim(user=member, type_slug="financial", title="Sponsor deal")
    contribution_review(contribution_id=contribution.pk, reviewer=maintainer, decision="approve")
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.PENDING
    with pytest.raises(DomainError) as double:
        contribution_review(
            contribution_id=contribution.pk, reviewer=maintainer, decision="approve"
        )
    assert double.value.code == "double_approval"
    contribution_review(
        contribution_id=contribution.pk, reviewer=UserFactory(role="maintainer"), decision="approve"
    )
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.APPROVED


def test_nobody_approves_their_own(maintainer):
    contribution = contribution_claim(user=maintainer, type_slug="code", title="My patch")
    with pytest.raises(DomainError) as exc:
        contribution_review(
            contribution_id=contribution.pk, reviewer=maintainer, decision="approve"
        )
    assert exc.value.code == "self_review"
    assert exc.value.status_code == 403


def test_members_cannot_review(member, other_member):
    contribution = contribution_claim(user=member, type_slug="code", title="Patch")
    with pytest.raises(DomainError) as exc:
        contribution_review(
            contribution_id=contribution.pk, reviewer=other_member, decision="approve"
        )
    assert exc.value.status_code == 403


def test_reject_needs_reason_and_is_final(member, maintainer):
    contribution = contribution_claim(user=member, type_slug="code", title="Patch")
    with pytest.raises(DomainError) as exc:
        contribution_review(
            contribution_id=contribution.pk, reviewer=maintainer, decision=ReviewDecision.REJECT
        )
    assert exc.value.code == "reason_required"
    contribution_review(
        contribution_id=contribution.pk,
        reviewer=maintainer,
        decision=ReviewDecision.REJECT,
        reason="duplicate of #3",
    )
    with pytest.raises(DomainError) as again:
        contribution_review(
            contribution_id=contribution.pk,
            reviewer=UserFactory(role="maintainer"),
            decision="approve",
        )
    assert again.value.code == "not_pending"


def test_changes_requested_then_resubmitted_then_approved(member, other_member, maintainer):
    contribution = contribution_claim(user=member, type_slug="code", title="Patch")
    contribution_review(
        contribution_id=contribution.pk,
        reviewer=maintainer,
        decision="request_changes",
        reason="add tests",
    )
    with pytest.raises(DomainError):
        contribution_resubmit(contribution_id=contribution.pk, user=other_member)
    contribution_resubmit(contribution_id=contribution.pk, user=member, description="with tests")
    contribution_review(contribution_id=contribution.pk, reviewer=maintainer, decision="approve")
    contribution.refresh_from_db()
    assert contribution.status == ContributionStatus.APPROVED


def test_github_handle_must_be_unique_and_profile_is_owners(member, other_member):
    mine = contributor_for(member)
    contributor_update(contributor=mine, actor=member, github_handle="octocat")
    theirs = contributor_for(other_member)
    with pytest.raises(DomainError) as taken:
        contributor_update(contributor=theirs, actor=other_member, github_handle="OctoCat")
    assert taken.value.code == "handle_taken"
    with pytest.raises(DomainError) as forbidden:
        contributor_update(contributor=mine, actor=other_member, opt_out_money=True)
    assert forbidden.value.status_code == 403


def test_roadmap_task_becomes_one_pending_contribution(member):
    from community.services.contributions import contribution_from_roadmap

    first = contribution_from_roadmap(user=member, task_id=12, title="Ship the board")
    again = contribution_from_roadmap(user=member, task_id=12, title="Ship the board")
    assert first.pk == again.pk
    assert first.source == "roadmap" and first.status == ContributionStatus.PENDING
