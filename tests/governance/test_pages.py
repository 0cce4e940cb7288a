"""Governance pages render for members and anonymous visitors and respect visibility."""

from __future__ import annotations

import pytest

from governance.services import proposal_create, proposal_submit, vote_cast
from tests.governance.conftest import option_ids

pytestmark = pytest.mark.django_db


def test_proposal_pages(client, member, other_member) -> None:
    proposal = proposal_create(
        author=member, title="Adopt a CoC", body="**bold**", tags=["community"]
    )
    draft = proposal_create(author=member, title="Hidden draft")
    proposal_submit(actor=member, proposal=proposal)
    page = client.get("/governance/?tag=community")
    assert page.status_code == 200 and b"Adopt a CoC" in page.content
    assert b"Hidden draft" not in page.content
    detail = client.get(f"/governance/proposals/{proposal.pk}/")
    assert b"<strong>bold</strong>" in detail.content
    assert client.get(f"/governance/proposals/{draft.pk}/").status_code == 404
    client.force_login(other_member)
    response = client.post(f"/governance/proposals/{proposal.pk}/comment/", {"body": "hi @x"})
    assert response.status_code == 302
    assert proposal.comments.count() == 1
    similar = client.get("/governance/proposals/similar/", {"title": "Adopt a CoC!"})
    assert b"Adopt a CoC" in similar.content


def test_poll_page_has_vote_box_and_live_counter(client, open_poll, member) -> None:
    poll = open_poll("irv")
    vote_cast(voter=member, poll=poll, choice=option_ids(poll)[:2])
    client.force_login(member)
    page = client.get(f"/governance/polls/{poll.pk}/")
    assert page.status_code == 200
    assert b'id="ballot-form"' in page.content and b"Sortable.min.js" in page.content
    assert b'data-count="1"' in page.content


def test_receipts_verify_and_delegation_pages(client, member, other_member) -> None:
    assert client.get("/governance/receipts/").status_code == 200
    assert client.get("/governance/verify/?poll=1").status_code == 200
    assert client.get("/governance/delegations/").status_code == 302  # login required
    client.force_login(member)
    response = client.post("/governance/delegations/", {"delegate": other_member.username})
    assert response.status_code == 302
    assert member.delegations_given.get().delegate == other_member
    assert other_member.name.encode() in client.get("/governance/delegations/").content


def test_accepted_proposal_page_offers_follow_up(client, member, maintainer) -> None:
    from governance.models import Proposal

    proposal = proposal_create(author=member, title="Ship dark mode")
    Proposal.objects.filter(pk=proposal.pk).update(status="accepted")
    client.force_login(maintainer)
    response = client.post(f"/governance/proposals/{proposal.pk}/roadmap/", {"title": "Dark"})
    assert response.status_code == 302
    page = client.get(f"/governance/proposals/{proposal.pk}/")
    assert b"Create roadmap task" in page.content and b"Dark" in page.content
    client.force_login(member)
    client.post(f"/governance/proposals/{proposal.pk}/outcome/", {"outcome": "Done in 2.0"})
    proposal.refresh_from_db()
    assert proposal.outcome == "Done in 2.0"
