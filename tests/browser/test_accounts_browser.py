"""Accounts in a real browser: sign-up with the emailed link, login, logout, roles, tokens."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from portal.accounts.roles import user_role
from portal.models import ApiToken, AuditEntry, User
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-passphrase-42"


def test_sign_up_verify_by_email_log_in_and_out(page, live_url, mailbox):
    page.goto("/accounts/signup/")
    page.fill("#id_email", "newcomer@example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url("**/accounts/confirm-email/")
    assert "Verify" in page.content() or "verif" in page.content().lower()

    (message,) = [m for m in mailbox() if "newcomer@example.org" in m.to]
    link = next(url for url in message.links() if "/accounts/confirm-email/" in url)
    assert link.startswith(live_url)

    page.goto(link)
    assert "newcomer@example.org" in page.content()
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url("**/accounts/login/")

    page.fill("#id_login", "newcomer@example.org")
    page.fill("#id_password", PASSWORD)
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url(f"{live_url}/")
    page.goto("/settings/profile/")
    assert "Signed in as newcomer@example.org" in page.content()
    assert user_role(User.objects.get(email="newcomer@example.org")) == "member"

    page.goto("/accounts/logout/")
    page.click("form.stack-form button[type=submit]")
    page.wait_for_url(f"{live_url}/")
    page.goto("/settings/profile/")
    assert "/accounts/login/" in page.url
    assert page.js_errors == []


def test_wrong_password_shows_an_error_on_the_form(page, login):
    user = UserFactory()
    page.goto("/accounts/login/")
    page.fill("#id_login", user.email)
    page.fill("#id_password", "not-the-password")
    page.click("form.stack-form button[type=submit]")
    alert = page.locator("[role=alert]").first
    assert "not correct" in alert.inner_text()


def test_steward_with_totp_promotes_a_member_to_maintainer(page, login, totp_enrol):
    steward = UserFactory(role="steward")
    totp_enrol(steward)
    member = UserFactory(role="member", display_name="Promoted Person")
    login(page, steward)

    page.goto("/users/")
    row = page.locator(f"tr[data-user='{member.username}']")
    assert row.locator("[data-testid=role]").text_content() == "member"
    row.locator("select[name=role]").select_option("maintainer")
    row.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Promoted Person is now a maintainer.")
    row = page.locator(f"tr[data-user='{member.username}']")
    assert row.locator("[data-testid=role]").text_content() == "maintainer"
    assert row.locator("select[name=role]").input_value() == "maintainer"
    member.refresh_from_db()
    assert user_role(member) == "maintainer"
    assert AuditEntry.objects.filter(action="role.change", actor_id=steward.pk).exists()

    page.goto(f"/u/{member.username}/")
    assert page.locator("[data-testid=profile-role]").text_content() == "Maintainer"


def test_steward_without_totp_is_made_to_enrol(page, login, live_url):
    steward = UserFactory(role="steward")
    login(page, steward)
    page.goto("/users/")
    # Redirected to enrolment, which first asks for the password again.
    assert "/accounts/" in page.url and "/users/" not in page.url
    assert "/accounts/reauthenticate/" in page.url or "/accounts/2fa/totp/activate/" in page.url


def test_member_creates_a_token_and_uses_it(page, login, live_url):
    member = UserFactory()
    login(page, member)
    page.goto("/settings/tokens/")
    page.fill("#id_name", "my script")
    page.select_option("#id_expires_in", "7")
    page.click("form.stack-form button[type=submit]")
    secret = page.locator("#token-secret").inner_text().strip()
    assert re.fullmatch(r"agora_[A-Za-z0-9_-]{40,}", secret)

    response = httpx.get(
        f"{live_url}/api/v1/me/", headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )
    assert response.status_code == 200
    assert response.json()["username"] == member.username

    page.goto("/settings/tokens/")
    assert secret not in page.content()
    page.click("button[aria-label='Revoke token my script']")
    expect(page.locator(".flash-success")).to_contain_text("revoked")
    token = ApiToken.objects.get(user=member)
    assert token.revoked_at is not None
    response = httpx.get(
        f"{live_url}/api/v1/me/", headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )
    assert response.status_code == 401


def test_profile_edit_shows_errors_and_saves(page, login):
    member = UserFactory()
    login(page, member)
    page.goto("/settings/profile/")
    page.fill("#id_github_handle", "not a handle")
    page.click("form.stack-form button[type=submit]")
    assert page.locator("#id_github_handle_error").is_visible()
    page.fill("#id_github_handle", "octocat")
    page.fill("#id_display_name", "Octo Cat")
    page.click("form.stack-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Profile saved.")
    page.goto(f"/u/{member.username}/")
    assert "Octo Cat" in page.content()
    assert page.locator(".avatar").first.inner_text() == "OC"
