"""Proposals appear in the site search, scoped to what the searcher may see."""

from __future__ import annotations

import pytest

from directus.search import search_run
from governance.services.proposals import proposal_create, proposal_submit


@pytest.mark.django_db
def test_discussed_proposal_is_found_with_a_highlighted_snippet(member):
    proposal = proposal_create(
        author=member, title="Adopt a code of conduct", body="We adopt the Contributor Covenant."
    )
    proposal_submit(actor=member, proposal=proposal)

    hits = search_run("covenant", user=None, kinds=["proposals"])

    assert [h.url for h in hits] == [f"/governance/proposals/{proposal.pk}/"]
    assert hits[0].kind == "proposal"
    assert "<mark>" in hits[0].snippet


@pytest.mark.django_db
def test_draft_is_found_only_by_its_author(member, other_member):
    proposal_create(author=member, title="Secret draft about budgets", body="Not yet public.")

    assert [h.title for h in search_run("budgets", user=member, kinds=["proposals"])] == [
        "Secret draft about budgets"
    ]
    assert search_run("budgets", user=other_member, kinds=["proposals"]) == []
    assert search_run("budgets", user=None, kinds=["proposals"]) == []


@pytest.mark.django_db
def test_search_api_includes_proposals(api, member):
    proposal = proposal_create(author=member, title="Quarterly roadmap review", body="Plan.")
    proposal_submit(actor=member, proposal=proposal)

    response = api.get("/api/v1/search/", {"q": "quarterly"})

    assert response.status_code == 200
    body = response.json()
    results = body.get("results", body)
    found = {(r["kind"], r["title"]) for r in results}
    assert ("proposal", "Quarterly roadmap review") in found
