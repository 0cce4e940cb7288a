"""The governance API: casting, errors, permissions (always with a second user)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from governance.models import Ballot, Participation
from governance.services import poll_close
from tests.factories import UserFactory
from tests.governance.conftest import option_ids

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttles() -> None:
    cache.clear()


def test_cast_ranked_ballot_and_read_it_back(open_poll, member, api_as) -> None:
    poll = open_poll("schulze")
    a, b, c = option_ids(poll)
    client = api_as(member)
    response = client.post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": [b, c, a]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["receipt"]) == 64 and len(body["nonce"]) == 32
    mine = client.get(f"/api/v1/polls/{poll.pk}/ballots/").json()
    assert mine["voted"] and mine["ballot"]["choice"] == [b, c, a]
    assert mine["ballot"]["receipt"] == body["receipt"]
    verify = client.post(
        f"/api/v1/polls/{poll.pk}/verify/", {"receipt": body["receipt"], "nonce": body["nonce"]}
    ).json()
    assert verify == {
        "receipt": body["receipt"],
        "included": True,
        "matches": True,
        "choice": [b, c, a],
    }


@pytest.mark.parametrize(
    ("choice", "code"),
    [
        ("DUP", "duplicate_rank"),
        ([123456], "unknown_option"),
        ("not a list", "invalid_choice"),
    ],
)
def test_bad_ballots_get_specific_4xx_and_nothing_is_stored(
    open_poll, member, api_as, choice, code
) -> None:
    poll = open_poll("irv")
    ids = option_ids(poll)
    if choice == "DUP":
        choice = [ids[0], ids[0]]
    response = api_as(member).post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": choice})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Ballot.objects.exists() and not Participation.objects.exists()


def test_over_budget_and_too_many_selections(open_poll, member, api_as) -> None:
    qv = open_poll("quadratic", budget=4)
    a, b, _ = option_ids(qv)
    response = api_as(member).post(
        f"/api/v1/polls/{qv.pk}/ballots/", {"choice": {str(a): 2, str(b): 1}}
    )
    assert response.json()["error"]["code"] == "over_budget"
    multi = open_poll("multiple", max_selections=2)
    response = api_as(member).post(
        f"/api/v1/polls/{multi.pk}/ballots/", {"choice": option_ids(multi)}
    )
    assert response.json()["error"]["code"] == "too_many_selections"
    assert not Ballot.objects.exists()


def test_closed_and_not_yet_open_polls_refuse_ballots(open_poll, member, api_as) -> None:
    poll = open_poll("yes_no")
    poll_close(poll=poll)
    response = api_as(member).post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": "yes"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "poll_closed"
    later = open_poll("yes_no", open_now=False, opens_at=timezone.now() + timedelta(hours=1))
    response = api_as(member).post(f"/api/v1/polls/{later.pk}/ballots/", {"choice": "yes"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "poll_not_open"


def test_non_eligible_member_is_refused(open_poll, member, other_member, api_as) -> None:
    poll = open_poll("yes_no", eligible_users=[member])
    response = api_as(other_member).post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": "yes"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_eligible"
    assert not Ballot.objects.exists()


def test_anonymous_cannot_cast(open_poll, api) -> None:
    poll = open_poll("yes_no")
    assert api.post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": "yes"}).status_code in (
        401,
        403,
    )


def test_nobody_can_see_another_members_secret_ballot(
    open_poll, member, other_member, api_as, api
) -> None:
    poll = open_poll("yes_no", visibility="secret")
    cast = api_as(member).post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": "no"}).json()
    other = api_as(other_member)
    # my-ballot endpoint answers only for the caller, and secret ballots have no owner at all
    assert other.get(f"/api/v1/polls/{poll.pk}/ballots/").json()["ballot"] is None
    assert api_as(member).get(f"/api/v1/polls/{poll.pk}/ballots/").json()["ballot"] is None
    results = other.get(f"/api/v1/polls/{poll.pk}/results/").json()
    assert results["result"] is None and results["participation"] == 1
    assert "ballots" not in results
    verify = other.get(
        f"/api/v1/polls/{poll.pk}/verify/", {"receipt": cast["receipt"], "nonce": cast["nonce"]}
    ).json()
    assert "choice" not in verify
    poll_close(poll=poll)
    for client in (other, api):
        published = client.get(f"/api/v1/polls/{poll.pk}/results/").json()["ballots"]
        assert published == [{"receipt": cast["receipt"], "choice": "no", "weight": "1"}]
    assert "voter" not in str(published)


def test_named_poll_shows_live_tally_and_voters(open_poll, member, other_member, api_as):
    poll = open_poll("approval")
    a, b, _ = option_ids(poll)
    api_as(member).post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": [a, b]})
    results = api_as(other_member).get(f"/api/v1/polls/{poll.pk}/results/").json()
    assert results["result"]["totals"][str(a)] == "1"
    assert results["ballots"][0]["voter"] == member.name


def test_casting_is_rate_limited_per_user(open_poll, member, other_member, api_as, settings):
    from rest_framework.settings import api_settings

    from portal.api.throttling import ScopedRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "vote": "3/min"}
    original = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        poll = open_poll("yes_no")
        client = api_as(member)
        codes = [
            client.post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": "yes"}).status_code
            for _ in range(4)
        ]
        assert codes == [201, 201, 201, 429]
        other = api_as(other_member).post(f"/api/v1/polls/{poll.pk}/ballots/", {"choice": "no"})
        assert other.status_code == 201
    finally:
        ScopedRateThrottle.THROTTLE_RATES = original


def test_proposal_flow_and_comments(member, other_member, api_as, api) -> None:
    client = api_as(member)
    created = client.post(
        "/api/v1/proposals/",
        {"title": "Adopt RFC process", "body": "*x*", "category": "rfc", "tags": ["process"]},
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api.get(f"/api/v1/proposals/{pk}/").status_code == 404  # draft: author only
    assert client.post(f"/api/v1/proposals/{pk}/submit/").json()["status"] == "discussion"
    assert api.get(f"/api/v1/proposals/{pk}/").json()["body_html"] == "<p><em>x</em></p>\n"
    comment = api_as(other_member).post(f"/api/v1/proposals/{pk}/comments/", {"body": "Looks good"})
    assert comment.status_code == 201
    cid = comment.json()["id"]
    reply = client.post(f"/api/v1/proposals/{pk}/comments/", {"body": "thanks", "parent_id": cid})
    assert reply.json()["parent"] == cid
    edit = client.patch(f"/api/v1/proposals/{pk}/comments/{cid}/", {"body": "mine now"})
    assert edit.status_code == 403
    listing = api.get("/api/v1/proposals/", {"tag": "process"}).json()
    assert [p["id"] for p in listing["results"]] == [pk]
    assert client.patch(f"/api/v1/proposals/{pk}/", {"body": "v2"}).status_code == 200
    assert (
        api_as(other_member).patch(f"/api/v1/proposals/{pk}/", {"body": "hijack"}).status_code
        == 403
    )


def test_member_cannot_create_standalone_poll(member, api_as, maintainer) -> None:
    payload = {
        "title": "Pick",
        "method": "single",
        "options": ["a", "b"],
        "closes_at": (timezone.now() + timedelta(days=1)).isoformat(),
        "open_now": True,
    }
    assert api_as(member).post("/api/v1/polls/", payload, format="json").status_code == 403
    created = api_as(maintainer).post("/api/v1/polls/", payload, format="json")
    assert created.status_code == 201 and created.json()["status"] == "open"
    frozen = api_as(maintainer).patch(
        f"/api/v1/polls/{created.json()['id']}/", {"quorum_count": 3}, format="json"
    )
    assert frozen.status_code == 409 and frozen.json()["error"]["code"] == "poll_frozen"


def test_delegations_api(member, other_member, api_as) -> None:
    client = api_as(member)
    response = client.post("/api/v1/delegations/", {"delegate": other_member.pk})
    assert response.status_code == 201
    cycle = api_as(other_member).post("/api/v1/delegations/", {"delegate": member.pk})
    assert cycle.status_code == 409 and cycle.json()["error"]["code"] == "delegation_cycle"
    assert (
        api_as(other_member).get("/api/v1/delegations/").json()["received"][0]["delegator"]["id"]
        == member.pk
    )
    assert client.delete("/api/v1/delegations/global/").status_code == 204
    assert client.delete("/api/v1/delegations/global/").status_code == 404


def test_non_public_poll_hidden_from_anonymous(open_poll, api) -> None:
    poll = open_poll("yes_no", is_public=False)
    assert api.get(f"/api/v1/polls/{poll.pk}/results/").status_code == 404
    assert UserFactory  # factories import used elsewhere


def test_signoff_api_with_a_concern(member, other_member, api_as) -> None:
    from django.contrib.auth.models import Group

    from governance.services import proposal_create, proposal_submit

    team = Group.objects.create(name="infra-team")
    team.user_set.add(other_member)
    proposal = proposal_create(author=member, title="RFC: new CI")
    proposal_submit(actor=member, proposal=proposal)
    author = api_as(member)
    started = author.post(
        f"/api/v1/proposals/{proposal.pk}/signoff/", {"team": "infra-team", "disposition": "merge"}
    )
    assert started.status_code == 201 and started.json()["pending"] == [other_member.username]
    concern = author.post(
        f"/api/v1/proposals/{proposal.pk}/signoff/concerns/", {"name": "cost"}
    ).json()["concerns"][0]
    refused = author.post(f"/api/v1/proposals/{proposal.pk}/signoff/review/")
    assert refused.status_code == 403  # the author is not on the team
    reviewer = api_as(other_member)
    state = reviewer.post(f"/api/v1/proposals/{proposal.pk}/signoff/review/").json()
    assert state["status"] == "review" and state["pending"] == []
    wrong = reviewer.post(
        f"/api/v1/proposals/{proposal.pk}/signoff/concerns/{concern['id']}/resolve/"
    )
    assert wrong.status_code == 403
    state = author.post(
        f"/api/v1/proposals/{proposal.pk}/signoff/concerns/{concern['id']}/resolve/"
    ).json()
    assert state["status"] == "fcp" and state["fcp_ends_at"]


def test_accepted_proposal_becomes_roadmap_task(member, maintainer, api_as) -> None:
    from governance.models import Proposal
    from governance.services import proposal_create, proposal_submit

    proposal = proposal_create(author=member, title="Ship dark mode")
    proposal_submit(actor=member, proposal=proposal)
    url = f"/api/v1/proposals/{proposal.pk}/roadmap-tasks/"
    early = api_as(maintainer).post(url, {"title": "Dark mode"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "bad_status"
    Proposal.objects.filter(pk=proposal.pk).update(status="accepted")
    assert api_as(member).post(url, {"title": "Dark mode"}).status_code == 403
    created = api_as(maintainer).post(url, {"title": "Dark mode"})
    assert created.status_code == 201
    assert list(proposal.roadmap_tasks.values_list("title", flat=True)) == ["Dark mode"]
