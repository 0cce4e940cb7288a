"""Sign-up with email verification, login, logout, password reset, login rate limits."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache

from portal.accounts.roles import user_role
from portal.models import AuditEntry, User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase-42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def link_in(message, pattern: str) -> str:
    match = re.search(rf"https?://[^/\s]+({pattern})", message.body)
    assert match, message.body
    return match.group(1)


def login(client, email: str, password: str):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_signup_verify_login_logout(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new@example.org")
    assert user_role(user) == "member"
    assert not EmailAddress.objects.get(user=user).verified

    # Unverified: logging in only re-sends the verification email.
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0], r"/accounts/confirm-email/[^/\s]+/")

    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    assert b"new@example.org" in confirm_page.content
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    response = login(client, "new@example.org", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/settings/profile/").status_code == 200

    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/settings/profile/").status_code == 302


def test_login_before_verification_does_not_sign_in(client):
    client.post(
        "/accounts/signup/",
        {"email": "late@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    client.logout()
    response = login(client, "late@example.org", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


def test_signup_shows_field_errors(client):
    response = client.post(
        "/accounts/signup/", {"email": "not-an-email", "password1": "x", "password2": "y"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="form-row field-error' in html
    assert 'class="errorlist" role="alert"' in html
    assert not User.objects.filter(email="not-an-email").exists()


def test_wrong_password_is_refused_with_a_message(client, member):
    response = login(client, member.email, "wrong")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client, member):
    response = client.post("/accounts/password/reset/", {"email": member.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = link_in(mail.outbox[0], r"/accounts/password/reset/key/[^\s]+/")
    response = client.get(link)  # allauth moves the key into the session and redirects
    assert response.status_code == 302
    form_url = response["Location"]
    response = client.post(
        form_url,
        {"password1": "brand-new-secret-phrase-7", "password2": "brand-new-secret-phrase-7"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("brand-new-secret-phrase-7")
    assert login(client, member.email, "brand-new-secret-phrase-7").status_code == 302


def test_repeated_login_failures_answer_429_and_are_audited(client, member):
    statuses = [login(client, member.email, f"wrong-{i}").status_code for i in range(5)]
    assert statuses == [200] * 5
    response = login(client, member.email, "wrong-again")
    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    assert "Too many sign-in attempts" in response.content.decode()
    # Even the right password waits out the window.
    assert login(client, member.email, "correct-horse-battery").status_code == 429
    assert "_auth_user_id" not in client.session
    burst = AuditEntry.objects.get(action="login.failure_burst")
    assert burst.detail["identifier"] == member.email


def test_allauth_pages_render_inside_the_site_shell(client):
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        html = client.get(url).content.decode()
        assert "portal/accounts.css" in html, url
        assert 'class="stack-form"' in html, url
        assert "<label" in html, url


def test_github_login_is_offered_only_when_configured(client, settings):
    assert "/accounts/github/login/" not in client.get("/accounts/login/").content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {
            "SCOPE": ["read:user", "user:email"],
            "APPS": [{"client_id": "abc", "secret": "def", "key": ""}],
        }
    }
    html = client.get("/accounts/login/").content.decode()
    assert "/accounts/github/login/" in html
    assert "Continue with GitHub" in html


def test_github_sign_in_records_the_github_handle(rf):
    from types import SimpleNamespace

    from portal.accounts.adapters import SocialAccountAdapter

    sociallogin = SimpleNamespace(
        account=SimpleNamespace(extra_data={"login": "octocat"}),
        user=User(),
    )
    request = rf.get("/")
    user = SocialAccountAdapter(request).populate_user(
        request, sociallogin, {"email": "octo@example.org", "name": "Octo Cat"}
    )
    assert user.github_handle == "octocat"
    assert user.email == "octo@example.org"
