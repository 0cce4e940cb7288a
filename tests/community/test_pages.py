from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from community.models import Contribution, Payout
from community.services.contributions import contribution_claim, contributor_for, contributor_update
from community.services.epochs import epoch_open
from community.services.ledger import contributor_grant
from tests.community.factories import approved_contribution, fund, usd

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_2fa_gate(settings):
    # Stewards must enrol TOTP for pages; that gate is tested by the portal's suite.
    settings.AGORA_STEWARD_REQUIRES_2FA = False


def test_home_shows_my_contributions_and_balance(client, member):
    fund("100")
    contributor_grant(
        contributor=contributor_for(member),
        currency=usd(),
        amount=Decimal("12.5"),
        actor=None,
        idempotency_key="g",
    )
    contribution_claim(user=member, type_slug="code", title="My visible patch")
    client.force_login(member)
    page = client.get("/community/").content.decode()
    assert "My visible patch" in page
    assert "12.5" in page


def test_claim_form_creates_contribution_and_shows_errors(client, member):
    client.force_login(member)
    assert client.get("/community/claim/").status_code == 200
    response = client.post(
        "/community/claim/", {"type": "code", "title": "Form patch", "effort": "large"}
    )
    assert response.status_code == 302
    assert Contribution.objects.get().effort == "large"
    bad = client.post("/community/claim/", {"type": "nope", "title": "x"}, follow=True)
    assert "unknown contribution type" in bad.content.decode()


def test_review_queue_is_for_maintainers(client, member, maintainer, other_member):
    contribution_claim(user=other_member, type_slug="code", title="Queue item")
    client.force_login(member)
    assert client.get("/community/review/").status_code == 403
    client.force_login(maintainer)
    assert "Queue item" in client.get("/community/review/").content.decode()


def test_review_from_the_page(client, member, maintainer):
    contribution = contribution_claim(user=member, type_slug="code", title="Patch")
    client.force_login(maintainer)
    client.post(f"/community/contributions/{contribution.pk}/", {"action": "approve"})
    contribution.refresh_from_db()
    assert contribution.status == "approved"


def test_ledger_pages_are_for_stewards(client, member, steward):
    fund("5")
    client.force_login(member)
    assert client.get("/community/ledger/").status_code == 403
    assert client.get("/community/ledger/health/").status_code == 403
    client.force_login(steward)
    assert "Pool funding" in client.get("/community/ledger/").content.decode()
    health = client.get("/community/ledger/health/").content.decode()
    assert "Healthy" in health


def test_epoch_page_shows_preview_and_chart(client, steward, member):
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="page-epoch",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="100",
    )
    approved_contribution(member)
    page = client.get(f"/community/epochs/{epoch.pk}/").content.decode()
    assert "Preview" in page and "chart.umd.min.js" in page and "100.00" in page


def test_payout_request_from_page(client, member):
    fund("100")
    contributor_grant(
        contributor=contributor_for(member),
        currency=usd(),
        amount=Decimal("10"),
        actor=None,
        idempotency_key="g",
    )
    client.force_login(member)
    client.post("/community/payouts/", {"action": "request", "amount": "4", "currency": "USD"})
    assert Payout.objects.get().amount == Decimal("4")
    above = client.post(
        "/community/payouts/", {"action": "request", "amount": "7", "currency": "USD"}, follow=True
    )
    assert "payout above balance" in above.content.decode()


def test_profile_hidden_when_opted_out(client, member, other_member):
    approved_contribution(member)
    contributor = contributor_for(member)
    assert client.get(f"/community/contributors/{contributor.pk}/").status_code == 200
    contributor_update(contributor=contributor, actor=member, opt_out_listing=True)
    assert client.get(f"/community/contributors/{contributor.pk}/").status_code == 404
    client.force_login(member)
    assert client.get(f"/community/contributors/{contributor.pk}/").status_code == 200
    client.force_login(other_member)
    assert client.get(f"/community/contributors/{contributor.pk}/").status_code == 404


def test_leaderboard_and_export(client, member):
    approved_contribution(member)
    assert member.name in client.get("/community/leaderboard/").content.decode()
    export = client.get("/community/all-contributorsrc/")
    assert export.json()["contributors"][0]["contributions"] == ["code"]


def test_profile_edit_links_handle(client, member):
    client.force_login(member)
    client.post("/community/profile/", {"github_handle": "ada-l", "opt_out_money": "on"})
    contributor = contributor_for(member)
    contributor.refresh_from_db()
    assert contributor.github_handle == "ada-l" and contributor.opt_out_money


def test_demo_seed_is_idempotent():
    from django.core.management import call_command

    call_command("demo_seed")
    count = Contribution.objects.count()
    call_command("demo_seed")
    assert Contribution.objects.count() == count > 0


def test_steward_sets_payout_threshold_from_page(client, member, steward):
    client.force_login(member)
    client.post(
        "/community/payouts/", {"action": "threshold", "currency": "USD", "threshold": "100"}
    )
    assert usd().dual_approval_threshold is None
    client.force_login(steward)
    client.post(
        "/community/payouts/", {"action": "threshold", "currency": "USD", "threshold": "100"}
    )
    assert usd().dual_approval_threshold == Decimal("100")
