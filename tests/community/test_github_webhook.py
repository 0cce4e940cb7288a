from __future__ import annotations

import json

import pytest

from community.models import Contribution, GithubDelivery
from community.services.contributions import contributor_for, contributor_update
from community.services.github import github_signature

pytestmark = pytest.mark.django_db
SECRET = "webhook-test-secret"
URL = "/community/github/webhook/"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.GITHUB_WEBHOOK_SECRET = SECRET


def merged_pr(login: str = "octocat", number: int = 7) -> dict:
    return {
        "action": "closed",
        "repository": {"full_name": "agora/agora"},
        "pull_request": {
            "number": number,
            "title": "Fix the thing",
            "merged": True,
            "html_url": f"https://github.com/agora/agora/pull/{number}",
            "user": {"login": login},
            "body": "details",
        },
    }


def deliver(client, payload, *, event="pull_request", delivery="d-1", signature=None, body=None):
    raw = body if body is not None else json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery}
    sig = signature if signature is not None else github_signature(SECRET, raw)
    if sig:
        headers["HTTP_X_HUB_SIGNATURE_256"] = sig
    return client.post(URL, data=raw, content_type="application/json", **headers)


def test_signed_merged_pr_becomes_contribution_for_linked_contributor(client, member):
    contributor_update(contributor=contributor_for(member), actor=member, github_handle="octocat")
    response = deliver(client, merged_pr())
    assert response.status_code == 201, response.content
    contribution = Contribution.objects.get()
    assert contribution.contributor.user == member
    assert contribution.type.slug == "code"
    assert contribution.status == "pending"


def test_unsigned_delivery_refused_with_401(client):
    response = deliver(client, merged_pr(), signature="")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unsigned"
    assert not GithubDelivery.objects.exists()


def test_tampered_body_refused(client):
    original = json.dumps(merged_pr()).encode()
    tampered = original.replace(b"octocat", b"mallory")
    response = deliver(client, None, body=tampered, signature=github_signature(SECRET, original))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert not Contribution.objects.exists()


def test_wrong_secret_refused(client):
    raw = json.dumps(merged_pr()).encode()
    response = deliver(client, None, body=raw, signature=github_signature("other", raw))
    assert response.status_code == 401


def test_replayed_delivery_refused_and_writes_nothing(client):
    assert deliver(client, merged_pr()).status_code == 201
    replay = deliver(client, merged_pr())
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "duplicate_delivery"
    assert Contribution.objects.count() == 1


def test_unknown_user_kept_unclaimed_then_attached_on_link(client, member):
    deliver(client, merged_pr(login="newcomer"))
    contribution = Contribution.objects.get()
    assert contribution.contributor is None and contribution.github_login == "newcomer"
    contributor_update(contributor=contributor_for(member), actor=member, github_handle="NewComer")
    contribution.refresh_from_db()
    assert contribution.contributor.user == member


def test_reviews_and_closed_issues_count_unmerged_prs_do_not(client):
    review = {
        "action": "submitted",
        "repository": {"full_name": "agora/agora"},
        "review": {"id": 99, "user": {"login": "rev"}, "html_url": "https://x/r"},
        "pull_request": {"number": 3, "title": "t"},
    }
    issue = {
        "action": "closed",
        "repository": {"full_name": "agora/agora"},
        "issue": {
            "number": 5,
            "title": "crash",
            "user": {"login": "rep"},
            "state_reason": "completed",
            "html_url": "https://x/i",
        },
    }
    unmerged = merged_pr(number=8)
    unmerged["pull_request"]["merged"] = False
    assert deliver(client, review, event="pull_request_review", delivery="a").status_code == 201
    assert deliver(client, issue, event="issues", delivery="b").status_code == 201
    assert deliver(client, unmerged, delivery="c").status_code == 200
    assert sorted(Contribution.objects.values_list("type__slug", flat=True)) == ["bug", "review"]


def test_get_not_allowed_and_bad_json_refused(client):
    assert client.get(URL).status_code == 405
    raw = b"not json"
    response = deliver(client, None, body=raw)
    assert response.status_code == 400
