from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from community.models import Contribution, LedgerTransaction, Payout, Review
from community.services.contributions import contribution_claim, contributor_for, contributor_update
from community.services.epochs import epoch_open
from community.services.ledger import contributor_grant
from tests.community.factories import approved_contribution, fund, usd
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def err(response) -> str:
    return response.json()["error"]["code"]


def test_claim_and_review_through_the_api(api_as, member, maintainer):
    created = api_as(member).post(
        "/api/v1/contributions/", {"type": "code", "title": "Patch", "link": "https://x.org/pr/1"}
    )
    assert created.status_code == 201, created.content
    cid = created.json()["id"]
    reviewed = api_as(maintainer).post(
        f"/api/v1/contributions/{cid}/reviews/", {"decision": "approve", "rating": 5}
    )
    assert reviewed.status_code == 201, reviewed.content
    listing = api_as(member).get(f"/api/v1/contributions/{cid}/reviews/")
    assert [r["decision"] for r in listing.json()] == ["approve"]
    assert Contribution.objects.get(pk=cid).status == "approved"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"type": "juggling", "title": "x"}, "unknown_type"),
        ({"type": "code"}, "invalid"),
        ({"type": "code", "title": "x", "effort": "enormous"}, "invalid"),
    ],
)
def test_bad_claims_refused_with_specific_errors(api_as, member, payload, code):
    response = api_as(member).post("/api/v1/contributions/", payload)
    assert response.status_code == 400
    assert err(response) == code
    assert not Contribution.objects.exists()


def test_self_approval_and_double_approval_refused(api_as, maintainer):
    contribution = contribution_claim(user=maintainer, type_slug="financial", title="Grant")
    own = api_as(maintainer).post(
        f"/api/v1/contributions/{contribution.pk}/reviews/", {"decision": "approve"}
    )
    assert own.status_code == 403 and err(own) == "self_review"
    other = UserFactory(role="maintainer")
    assert (
        api_as(other)
        .post(f"/api/v1/contributions/{contribution.pk}/reviews/", {"decision": "approve"})
        .status_code
        == 201
    )
    again = api_as(other).post(
        f"/api/v1/contributions/{contribution.pk}/reviews/", {"decision": "approve"}
    )
    assert again.status_code == 409 and err(again) == "double_approval"
    assert Review.objects.count() == 1


def test_non_numeric_rating_refused(api_as, member, maintainer):
    contribution = contribution_claim(user=member, type_slug="code", title="Patch")
    response = api_as(maintainer).post(
        f"/api/v1/contributions/{contribution.pk}/reviews/",
        {"decision": "approve", "rating": "great"},
    )
    assert response.status_code == 400
    assert not Review.objects.exists()


def test_pending_contributions_hidden_from_other_members(api_as, api, member, other_member):
    contribution = contribution_claim(user=member, type_slug="code", title="Secret")
    assert api_as(other_member).get(f"/api/v1/contributions/{contribution.pk}/").status_code == 404
    assert api.get(f"/api/v1/contributions/{contribution.pk}/").status_code == 404
    assert api_as(member).get(f"/api/v1/contributions/{contribution.pk}/").status_code == 200
    review = api_as(other_member).post(
        f"/api/v1/contributions/{contribution.pk}/reviews/", {"decision": "approve"}
    )
    assert review.status_code == 404


def test_members_cannot_review_visible_contributions(api_as, member, other_member):
    contribution = approved_contribution(member)
    Contribution.objects.filter(pk=contribution.pk)  # approved → public
    third = contribution_claim(user=member, type_slug="doc", title="Doc")
    response = api_as(other_member).post(
        f"/api/v1/contributions/{third.pk}/reviews/", {"decision": "approve"}
    )
    assert response.status_code == 404  # not even visible to them
    approved = api_as(other_member).get(f"/api/v1/contributions/{contribution.pk}/")
    assert approved.status_code == 200


def test_contribution_types_listed_and_only_stewards_add(api_as, api, member, steward):
    listing = api.get("/api/v1/contribution-types/")
    slugs = {t["slug"] for t in listing.json()}
    assert {"code", "review", "doc", "financial", "security"} <= slugs
    payload = {"slug": "meetup", "name": "Meetup", "category": "collaboration"}
    refused = api_as(member).post("/api/v1/contribution-types/", payload)
    assert refused.status_code == 403
    created = api_as(steward).post("/api/v1/contribution-types/", payload)
    assert created.status_code == 201, created.content
    bad = api_as(steward).post(
        "/api/v1/contribution-types/", {"slug": "x2", "name": "X", "category": "nope"}
    )
    assert bad.status_code == 400


def test_epoch_allocations_preview_and_close(api_as, api, steward, member):
    fund("100")
    now = timezone.now()
    created = api_as(steward).post(
        "/api/v1/epochs/",
        {
            "name": "api-epoch",
            "starts_at": (now - timedelta(days=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "currency": "USD",
            "pool_amount": "12.34",
        },
    )
    assert created.status_code == 201, created.content
    epoch_id = created.json()["id"]
    approved_contribution(member)
    preview = api.get(f"/api/v1/epochs/{epoch_id}/allocations/").json()
    assert preview["preview"] is True and preview["allocated"] == "12.34"
    assert api_as(member).post(f"/api/v1/epochs/{epoch_id}/close/").status_code == 403
    closed = api_as(steward).post(f"/api/v1/epochs/{epoch_id}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = api_as(steward).post(f"/api/v1/epochs/{epoch_id}/close/")
    assert again.status_code == 409 and err(again) == "already_closed"


@pytest.mark.parametrize(
    ("pool", "code"),
    [
        ("-1", "negative_amount"),
        ("1.001", "too_many_decimals"),
        ("lots", "invalid_amount"),
        (1.5, "invalid_amount"),
    ],
)
def test_epoch_bad_pool_amount_refused(api_as, steward, pool, code):
    now = timezone.now()
    response = api_as(steward).post(
        "/api/v1/epochs/",
        {
            "name": "bad",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "currency": "USD",
            "pool_amount": pool,
        },
    )
    assert response.status_code == 400 and err(response) == code


def test_payout_flow_and_object_permissions(api_as, member, other_member, steward):
    fund("100")
    contributor_grant(
        contributor=contributor_for(member),
        currency=usd(),
        amount=Decimal("30"),
        actor=None,
        idempotency_key="g",
    )
    above = api_as(member).post("/api/v1/payouts/", {"amount": "30.01", "currency": "USD"})
    assert above.status_code == 409 and err(above) == "insufficient_balance"
    created = api_as(member).post("/api/v1/payouts/", {"amount": "30", "currency": "USD"})
    assert created.status_code == 201
    pid = created.json()["id"]
    # another member cannot see, cancel or approve it
    assert api_as(other_member).get(f"/api/v1/payouts/{pid}/").status_code == 404
    assert api_as(other_member).post(f"/api/v1/payouts/{pid}/cancel/").status_code == 404
    assert api_as(other_member).post(f"/api/v1/payouts/{pid}/approve/").status_code == 404
    assert api_as(member).post(f"/api/v1/payouts/{pid}/approve/").status_code == 403
    assert api_as(steward).post(f"/api/v1/payouts/{pid}/approve/").status_code == 200
    paid = api_as(steward).post(f"/api/v1/payouts/{pid}/pay/")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert Payout.objects.get(pk=pid).transaction_id


def test_ledger_visibility_and_posting(api_as, member, other_member, steward):
    fund("100")
    contributor_grant(
        contributor=contributor_for(member),
        currency=usd(),
        amount=Decimal("5"),
        actor=None,
        idempotency_key="g",
    )
    mine = api_as(member).get("/api/v1/ledger/transactions/").json()["results"]
    assert [t["source"] for t in mine] == ["grant"]
    assert api_as(other_member).get("/api/v1/ledger/transactions/").json()["results"] == []
    assert len(api_as(steward).get("/api/v1/ledger/transactions/").json()["results"]) == 2
    balances = api_as(member).get("/api/v1/ledger/balances/").json()["results"]
    assert [(b["kind"], b["balance"]) for b in balances] == [("contributor", "5.00000000")]
    assert api_as(other_member).get("/api/v1/ledger/balances/").json()["results"] == []
    refused = api_as(member).post(
        "/api/v1/ledger/transactions/",
        {"kind": "funding", "currency": "USD", "amount": "1", "idempotency_key": "m"},
    )
    assert refused.status_code == 403
    bad = api_as(steward).post(
        "/api/v1/ledger/transactions/",
        {"kind": "funding", "currency": "USD", "amount": "-1", "idempotency_key": "s"},
    )
    assert bad.status_code == 400 and err(bad) == "negative_amount"
    unknown = api_as(steward).post(
        "/api/v1/ledger/transactions/",
        {"kind": "funding", "currency": "XXX", "amount": "1", "idempotency_key": "s"},
    )
    assert unknown.status_code == 400 and err(unknown) == "unknown_currency"
    tx = LedgerTransaction.objects.get(source="grant")
    assert api_as(member).post(f"/api/v1/ledger/transactions/{tx.pk}/reverse/").status_code == 403
    reversed_ = api_as(steward).post(f"/api/v1/ledger/transactions/{tx.pk}/reverse/")
    assert reversed_.status_code == 201
    twice = api_as(steward).post(f"/api/v1/ledger/transactions/{tx.pk}/reverse/")
    assert twice.status_code == 409 and err(twice) == "already_reversed"


def test_leaderboard_respects_listing_opt_out(api, member, other_member, steward):
    approved_contribution(member)
    approved_contribution(other_member)
    contributor_update(
        contributor=contributor_for(other_member), actor=other_member, opt_out_listing=True
    )
    board = api.get("/api/v1/leaderboard/").json()["results"]
    assert [row["contributor_id"] for row in board] == [contributor_for(member).pk]
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="lb",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="0",
    )
    per_epoch = api.get(f"/api/v1/leaderboard/?epoch={epoch.pk}").json()["results"]
    assert [row["contributor_id"] for row in per_epoch] == [contributor_for(member).pk]
    assert api.get("/api/v1/leaderboard/?epoch=abc").status_code == 400
    export = api.get("/api/v1/community/all-contributorsrc/").json()
    assert [c["name"] for c in export["contributors"]] == [member.name]
    assert export["contributors"][0]["contributions"] == ["code"]


def test_badges_first_contribution_and_custom_awards(api_as, api, member, other_member, steward):
    approved_contribution(member, "security")
    badges = {b["slug"]: b["awarded"] for b in api.get("/api/v1/badges/").json()}
    assert badges["first-contribution"] == 1 and badges["security-reporter"] == 1
    payload = {"slug": "helper", "name": "Helper"}
    assert api_as(member).post("/api/v1/badges/", payload).status_code == 403
    assert api_as(steward).post("/api/v1/badges/", payload).status_code == 201
    target = contributor_for(other_member).pk
    assert (
        api_as(member).post("/api/v1/badges/helper/awards/", {"contributor": target}).status_code
        == 403
    )
    awarded = api_as(steward).post("/api/v1/badges/helper/awards/", {"contributor": target})
    assert awarded.status_code == 201
    again = api_as(steward).post("/api/v1/badges/helper/awards/", {"contributor": target})
    assert again.status_code == 409


def test_metrics_rolling_windows(api, member):
    approved_contribution(member, "code")
    approved_contribution(member, "doc")
    metrics = api.get("/api/v1/community/metrics/").json()
    assert metrics["today"]["contributions"] == 2
    assert metrics["7d"]["by_type"]["code"]["contributions"] == 1
    assert metrics["30d"]["by_category"]["technical"]["points"] == "6.4000"
    assert len(metrics["daily"]) == 30


def test_peer_give_through_api(api_as, member, other_member, steward):
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="peer",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="0",
        method="peer",
    )
    target = contributor_for(other_member).pk
    ok = api_as(member).post(f"/api/v1/epochs/{epoch.pk}/give/", {"receiver": target, "amount": 40})
    assert ok.status_code == 200
    mine = contributor_for(member).pk
    own = api_as(member).post(f"/api/v1/epochs/{epoch.pk}/give/", {"receiver": mine, "amount": 1})
    assert own.status_code == 400 and err(own) == "self_allocation"
    over = api_as(member).post(
        f"/api/v1/epochs/{epoch.pk}/give/", {"receiver": target, "amount": 101}
    )
    assert over.status_code == 400 and err(over) == "give_exceeded"


def test_scoring_policy_versions(api_as, api, member, steward):
    assert [p["version"] for p in api.get("/api/v1/scoring-policies/").json()["results"]] == [1]
    payload = {"base_points": {"code": "20"}, "notes": "code counts double"}
    assert api_as(member).post("/api/v1/scoring-policies/", payload).status_code == 403
    created = api_as(steward).post("/api/v1/scoring-policies/", payload)
    assert created.status_code == 201 and created.json()["version"] == 2
    bad = api_as(steward).post(
        "/api/v1/scoring-policies/", {"category_weights": {"technical": "abc"}}
    )
    assert bad.status_code == 400
