"""The sign-off panel on the proposal page: start, review, concerns, FCP and disposition."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from governance.models import Concern, Signoff, SignoffProcess
from governance.services import (
    concern_raise,
    proposal_create,
    proposal_submit,
    signoff_mark,
    signoff_start,
    signoffs_tick,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def team():
    group = Group.objects.create(name="core-team")
    alice: Any = UserFactory(role="member")
    bob: Any = UserFactory(role="member")
    group.user_set.add(alice, bob)
    return group, alice, bob


@pytest.fixture
def proposal(member):
    proposal = proposal_create(author=member, title="Adopt semantic versioning")
    proposal_submit(actor=member, proposal=proposal)
    return proposal


def _url(proposal, tail: str = "") -> str:
    return f"/governance/proposals/{proposal.pk}/signoff/{tail}"


def test_author_starts_a_signoff_from_the_page(client, member, proposal, team) -> None:
    client.force_login(member)
    page = client.get(f"/governance/proposals/{proposal.pk}/")
    assert b"Start sign-off" in page.content
    response = client.post(
        _url(proposal, "start/"), {"team": "core-team", "disposition": "merge", "fcp_days": "5"}
    )
    assert response.status_code == 302
    process = SignoffProcess.objects.get(proposal=proposal)
    assert (process.team.name, process.disposition, process.fcp_days) == ("core-team", "merge", 5)


def test_another_member_cannot_start_a_signoff(client, other_member, proposal, team) -> None:
    client.force_login(other_member)
    assert b"Start sign-off" not in client.get(f"/governance/proposals/{proposal.pk}/").content
    response = client.post(
        _url(proposal, "start/"), {"team": "core-team", "disposition": "merge"}, **HTMX
    )
    assert response.status_code == 403
    assert b"only the author or a steward" in response.content
    assert not SignoffProcess.objects.exists()


def test_start_form_shows_field_errors(client, member, proposal, team) -> None:
    client.force_login(member)
    response = client.post(
        _url(proposal, "start/"), {"team": "no-such-team", "disposition": "merge"}, **HTMX
    )
    assert response.status_code == 400
    assert b'id="error-team"' in response.content
    assert not SignoffProcess.objects.exists()


def test_team_members_sign_off_and_fcp_countdown_shows(client, member, proposal, team) -> None:
    group, alice, bob = team
    process = signoff_start(actor=member, proposal=proposal, team=group, disposition="merge")
    client.force_login(alice)
    page = client.get(f"/governance/proposals/{proposal.pk}/")
    assert b"Mark reviewed" in page.content and b"Awaiting sign-offs" in page.content
    response = client.post(_url(proposal, "review/"), **HTMX)
    assert response.status_code == 200
    assert Signoff.objects.filter(process=process, user=alice).exists()
    assert b"Reviewed (1 of 2)" in response.content
    assert b"Mark reviewed" not in response.content  # alice is done
    client.force_login(bob)
    response = client.post(_url(proposal, "review/"), **HTMX)
    process.refresh_from_db()
    assert process.status == "fcp"
    assert b"Final comment period ends" in response.content
    assert b"data-countdown" in response.content
    assert b"Proposed disposition: <strong>Merge</strong>" in response.content


def test_non_team_member_is_refused_a_signoff(client, member, other_member, proposal, team):
    group, _alice, _bob = team
    signoff_start(actor=member, proposal=proposal, team=group, disposition="close")
    client.force_login(other_member)
    assert b"Mark reviewed" not in client.get(f"/governance/proposals/{proposal.pk}/").content
    response = client.post(_url(proposal, "review/"), **HTMX)
    assert response.status_code == 403
    assert b"only members of core-team sign off" in response.content
    assert not Signoff.objects.exists()


def test_anyone_raises_a_named_concern_and_only_its_author_resolves_it(
    client, member, other_member, proposal, team
) -> None:
    group, alice, bob = team
    process = signoff_start(actor=member, proposal=proposal, team=group, disposition="merge")
    client.force_login(other_member)
    response = client.post(
        _url(proposal, "concerns/"), {"name": "licence", "body": "Check it"}, **HTMX
    )
    assert response.status_code == 200
    concern = Concern.objects.get(process=process)
    assert (concern.name, concern.author) == ("licence", other_member)
    assert b"licence" in response.content and b"Resolve" in response.content

    # the concern blocks the FCP even when every team member has signed off
    signoff_mark(actor=alice, process=process)
    signoff_mark(actor=bob, process=process)
    process.refresh_from_db()
    assert process.status == "review"

    client.force_login(alice)
    refused = client.post(_url(proposal, f"concerns/{concern.pk}/resolve/"), **HTMX)
    assert refused.status_code == 403
    assert b"only the concern&#x27;s author resolves it" in refused.content
    concern.refresh_from_db()
    assert concern.resolved_at is None

    client.force_login(other_member)
    response = client.post(_url(proposal, f"concerns/{concern.pk}/resolve/"), **HTMX)
    assert response.status_code == 200
    concern.refresh_from_db()
    process.refresh_from_db()
    assert concern.resolved_at is not None and process.status == "fcp"
    assert b"(resolved)" in response.content


def test_empty_and_duplicate_concern_names_show_errors(client, member, proposal, team) -> None:
    group, _alice, _bob = team
    process = signoff_start(actor=member, proposal=proposal, team=group, disposition="merge")
    concern_raise(actor=member, process=process, name="cost")
    client.force_login(member)
    empty = client.post(_url(proposal, "concerns/"), {"name": "  "}, **HTMX)
    assert empty.status_code == 400 and b'id="error-name"' in empty.content
    duplicate = client.post(_url(proposal, "concerns/"), {"name": "cost"}, **HTMX)
    assert duplicate.status_code == 409
    assert b"an open concern already has that name" in duplicate.content
    assert Concern.objects.count() == 1


def test_disposition_taken_is_shown_after_the_fcp(client, member, proposal, team) -> None:
    group, alice, bob = team
    process = signoff_start(actor=member, proposal=proposal, team=group, disposition="postpone")
    signoff_mark(actor=alice, process=process)
    signoff_mark(actor=bob, process=process)
    signoffs_tick(now=timezone.now() + timedelta(days=11))
    page = client.get(f"/governance/proposals/{proposal.pk}/")
    assert b"Disposition taken: <strong>Postpone</strong>" in page.content
    assert b"Raise a concern" not in page.content


def test_form_posts_without_htmx_redirect_with_the_error(client, other_member, proposal, team):
    group, _alice, _bob = team
    signoff_start(actor=proposal.author, proposal=proposal, team=group, disposition="merge")
    client.force_login(other_member)
    response = client.post(_url(proposal, "review/"), follow=True)
    assert b"only members of core-team sign off" in response.content
    assert not Signoff.objects.exists()


def test_panel_fragment_for_anonymous_visitors(client, member, proposal, team) -> None:
    group, _alice, _bob = team
    signoff_start(actor=member, proposal=proposal, team=group, disposition="merge")
    response = client.get(_url(proposal))
    assert response.status_code == 200 and b'id="signoff-panel"' in response.content
    assert b"Raise a concern" not in response.content
    assert client.post(_url(proposal, "review/")).status_code == 302  # to the login page
    assert not Signoff.objects.exists()
