"""Community in a real browser: claim → review → the overview updates live; epoch chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from community.models import Contribution
from community.services.epochs import epoch_open
from tests.community.factories import approved_contribution
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_claim_then_maintainer_approves_and_overview_updates_live(page, login):
    member = UserFactory(role="member")
    maintainer = UserFactory(role="maintainer")

    login(page, member)
    page.goto("/community/claim/")
    page.select_option("#type", "doc")
    page.fill("#title", "Browser-written guide")
    page.fill("#link", "https://example.org/guide")
    page.click("#claim-form button[type=submit]")
    expect(page.locator("#status")).to_have_text("Pending review")
    contribution = Contribution.objects.get(title="Browser-written guide")

    page.context.clear_cookies()
    login(page, maintainer)
    watcher = page.context.new_page()
    watcher.goto("/community/")
    watcher.wait_for_timeout(500)  # let the subscription be acknowledged

    page.goto("/community/review/")
    page.get_by_role("link", name="Browser-written guide").click()
    page.select_option("#rating", "4")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_have_text("Approved")
    contribution.refresh_from_db()
    assert contribution.status == "approved"

    expect(watcher.locator("#recent-approved")).to_contain_text(
        "Browser-written guide", timeout=10_000
    )
    assert page.js_errors == []


def test_epoch_page_draws_allocation_chart(page):
    steward = UserFactory(role="steward")
    member = UserFactory(role="member")
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="browser-epoch",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="250",
    )
    approved_contribution(member)
    page.goto(f"/community/epochs/{epoch.pk}/")
    expect(page.locator("#allocation tbody tr")).to_have_count(1)
    expect(page.locator("#allocated")).to_have_text("250")
    page.wait_for_function("window.chartReady === true")
    assert page.js_errors == []
