"""Community settings in a real browser: a steward publishes a scoring policy version
(after fixing a validation error) and opens an epoch that uses it; a member is refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from community.defaults import defaults_ensure
from community.models import Epoch
from community.services.scoring import policy_current
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_steward_publishes_a_policy_then_opens_an_epoch_under_it(page, login, totp_enrol):
    defaults_ensure()
    before = policy_current().version
    steward = UserFactory(role="steward")
    totp_enrol(steward)
    login(page, steward)

    page.goto("/community/")
    page.get_by_role("link", name="Manage").click()
    page.get_by_role("link", name="Scoring policy").first.click()
    page.fill("#weight_technical", "0.7")  # the four weights now sum to 1.3
    page.click("#policy-form button[type=submit]")
    expect(page.locator("#policy-form .field-error")).to_contain_text("must sum to 1")
    expect(page.locator("#weight_technical")).to_have_value("0.7")  # input kept
    page.fill("#weight_innovation", "0.1")
    page.fill("#weight_problem_solving", "0.1")
    page.fill("#weight_collaboration", "0.1")
    page.click("#policy-form button[type=submit]")
    expect(page.locator("body")).to_contain_text(f"Scoring policy v{before + 1} published")

    page.get_by_role("link", name="Open an epoch").first.click()
    page.fill("#name", "browser-2032-01")
    page.fill("#starts_at", "2032-01-01T00:00")
    page.fill("#ends_at", "2032-02-01T00:00")
    page.fill("#pool_amount", "12.345")
    page.click("#epoch-open-form button[type=submit]")
    expect(page.locator("#epoch-open-form .field-error")).to_contain_text("decimal places")
    page.fill("#pool_amount", "1200.50")
    page.click("#epoch-open-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Epoch browser-2032-01")
    expect(page.locator("body")).to_contain_text(f"scoring policy v{before + 1}")
    assert Epoch.objects.get(name="browser-2032-01").policy.version == before + 1
    assert page.js_errors == []

    member = UserFactory(role="member")
    page.context.clear_cookies()
    login(page, member)
    page.goto("/community/manage/policy/")
    expect(page.locator("h1")).to_have_text("Not allowed")
