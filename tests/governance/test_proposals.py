"""Proposal lifecycle, revisions, discussion, rendering and sign-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from governance.models import Proposal, ProposalRevision, ProposalStatus, SignoffStatus
from governance.rendering import markdown_render
from governance.selectors import proposals_filter, proposals_similar, proposals_visible
from governance.services import (
    category_settings_update,
    comment_create,
    comment_edit,
    concern_raise,
    concern_resolve,
    proposal_create,
    proposal_open_vote,
    proposal_second,
    proposal_submit,
    proposal_update,
    proposal_withdraw,
    reaction_toggle,
    signoff_mark,
    signoff_start,
    signoffs_tick,
)
from portal.api.errors import DomainError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_markdown_is_sanitized() -> None:
    html = markdown_render(
        "**hi** <script>alert(1)</script> [x](javascript:alert(1)) [y](https://e.org) "
        "<img src=x onerror=alert(1)>"
    )
    assert "<strong>hi</strong>" in html
    assert '<a href="https://e.org" rel="nofollow noopener">y</a>' in html
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript' not in html


def test_revisions_are_kept_during_discussion(member, other_member) -> None:
    proposal = proposal_create(author=member, title="T", body="one", tags=["Infra", "infra"])
    assert list(proposal.tags.values_list("name", flat=True)) == ["infra"]
    proposal_submit(actor=member, proposal=proposal)
    proposal_update(actor=member, proposal=proposal, body="two")
    assert list(
        ProposalRevision.objects.filter(proposal=proposal).values_list("body", flat=True)
    ) == ["one", "two"]
    with pytest.raises(DomainError):
        proposal_update(actor=other_member, proposal=proposal, body="hijack")


def test_drafts_are_visible_only_to_their_author(member, other_member) -> None:
    draft = proposal_create(author=member, title="Secret plan")
    assert proposals_visible(user=member).filter(pk=draft.pk).exists()
    assert not proposals_visible(user=other_member).filter(pk=draft.pk).exists()


def test_filters_and_similarity(member) -> None:
    p = proposal_create(
        author=member, title="Move CI to self-hosted runners", category="rfc", tags=["ci"]
    )
    proposal_submit(actor=member, proposal=p)
    other = proposal_create(author=member, title="Budget for swag", category="budget")
    proposal_submit(actor=member, proposal=other)
    assert list(proposals_filter(user=member, category="rfc")) == [p]
    assert list(proposals_filter(user=member, tag="ci")) == [p]
    assert list(proposals_filter(user=member, search="swag")) == [other]
    similar = proposals_similar(user=member, title="Move CI to self hosted runner")
    assert similar and similar[0][0] == p


def test_vote_needs_discussion_period_and_seconds(member, other_member, steward) -> None:
    category_settings_update(
        actor=steward, category="policy", min_discussion_days=2, seconds_required=1
    )
    p = proposal_create(author=member, title="P", category="policy")
    proposal_submit(actor=member, proposal=p)
    with pytest.raises(DomainError) as err:
        proposal_open_vote(actor=member, proposal=p)
    assert err.value.code == "discussion_too_short"
    Proposal.objects.filter(pk=p.pk).update(
        discussion_started_at=timezone.now() - timedelta(days=3)
    )
    with pytest.raises(DomainError) as err:
        proposal_open_vote(actor=member, proposal=p)
    assert err.value.code == "not_enough_seconds"
    proposal_second(actor=other_member, proposal=p)
    poll = proposal_open_vote(actor=member, proposal=p)
    p.refresh_from_db()
    assert p.status == ProposalStatus.VOTING and poll.status == "open"


def test_withdraw_and_comments(member, other_member) -> None:
    p = proposal_create(author=member, title="P")
    proposal_submit(actor=member, proposal=p)
    comment = comment_create(actor=other_member, proposal=p, body=f"ping @{member.username}")
    assert list(comment.mentions.all()) == [member]
    reply = comment_create(actor=member, proposal=p, body="pong", parent=comment)
    assert reply.parent == comment
    comment_edit(actor=other_member, comment=comment, body="edited")
    assert list(comment.edits.values_list("body", flat=True)) == [f"ping @{member.username}"]
    with pytest.raises(DomainError):
        comment_edit(actor=member, comment=comment, body="not mine")
    assert reaction_toggle(actor=member, comment=comment, emoji="👍") is True
    assert reaction_toggle(actor=member, comment=comment, emoji="👍") is False
    proposal_withdraw(actor=member, proposal=p)
    p.refresh_from_db()
    assert p.status == ProposalStatus.WITHDRAWN


def test_signoff_concern_blocks_then_fcp_then_disposition(member) -> None:
    team = Group.objects.create(name="core-team")
    alice, bob = UserFactory(role="member"), UserFactory(role="member")
    team.user_set.add(alice, bob)
    p = proposal_create(author=member, title="RFC 1", category="rfc")
    proposal_submit(actor=member, proposal=p)
    process = signoff_start(actor=member, proposal=p, team=team, disposition="merge")
    signoff_mark(actor=alice, process=process)
    with pytest.raises(DomainError):
        signoff_mark(actor=member, process=process)  # not in the team
    concern = concern_raise(actor=member, process=process, name="perf")
    signoff_mark(actor=bob, process=process)
    process.refresh_from_db()
    assert process.status == SignoffStatus.REVIEW  # the concern blocks
    with pytest.raises(DomainError):
        concern_resolve(actor=alice, concern=concern)
    concern_resolve(actor=member, concern=concern)
    process.refresh_from_db()
    assert process.status == SignoffStatus.FCP
    assert process.fcp_ends_at - process.fcp_started_at == timedelta(days=10)
    assert signoffs_tick(now=timezone.now() + timedelta(days=9))["finished"] == 0
    assert signoffs_tick(now=timezone.now() + timedelta(days=11))["finished"] == 1
    p.refresh_from_db()
    assert p.status == ProposalStatus.ACCEPTED


def test_signoff_reminders_go_to_pending_members(member, mailoutbox=None) -> None:
    from django.core import mail

    team = Group.objects.create(name="docs-team")
    alice, bob = UserFactory(role="member"), UserFactory(role="member")
    team.user_set.add(alice, bob)
    p = proposal_create(author=member, title="RFC 2", category="rfc")
    proposal_submit(actor=member, proposal=p)
    process = signoff_start(actor=member, proposal=p, team=team, disposition="close")
    signoff_mark(actor=alice, process=process)
    assert signoffs_tick()["reminded"] == 1
    assert [m.to for m in mail.outbox] == [[bob.email]]
    assert signoffs_tick()["reminded"] == 0  # not again within two days
