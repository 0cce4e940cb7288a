"""Profile, profile editing, token management and the stewards' role page."""

from __future__ import annotations

import re

import pytest

from portal.accounts.roles import user_role
from portal.accounts.tokens import token_authenticate, token_create
from portal.models import ApiToken, AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_steward_2fa(settings):
    # The two-factor requirement has its own tests (test_accounts_2fa.py).
    settings.AGORA_STEWARD_REQUIRES_2FA = False


def test_profile_is_public_and_shows_the_basics(client, member):
    member.display_name = "Grace Hopper"
    member.github_handle = "ghopper"
    member.bio = "Compilers & <b>bugs</b>"
    member.save()
    response = client.get(f"/u/{member.username}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Grace Hopper" in html
    assert ">GH</span>" in html  # initials avatar
    assert f"--hue: {member.avatar_hue}" in html
    assert "https://github.com/ghopper" in html
    assert "Compilers &amp; &lt;b&gt;bugs&lt;/b&gt;" in html  # escaped
    assert "Edit profile" not in html
    assert 'action="/users/' not in html  # no role form for anonymous visitors


def test_unknown_or_inactive_profile_is_404(client, member):
    assert client.get("/u/nobody-here/").status_code == 404
    member.is_active = False
    member.save()
    assert client.get(f"/u/{member.username}/").status_code == 404


def test_owner_sees_edit_link_and_steward_sees_role_form(client, member, steward):
    client.force_login(member)
    assert "Edit profile" in client.get(f"/u/{member.username}/").content.decode()
    client.force_login(steward)
    html = client.get(f"/u/{member.username}/").content.decode()
    assert f'action="/users/{member.pk}/role/"' in html


def test_profile_edit_requires_login(client):
    response = client.get("/settings/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_edit_saves(client, member):
    client.force_login(member)
    response = client.post(
        "/settings/profile/",
        {"display_name": "Ada L.", "github_handle": "https://github.com/ada", "bio": "Hi"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Profile saved." in response.content.decode()
    member.refresh_from_db()
    assert (member.display_name, member.github_handle, member.bio) == ("Ada L.", "ada", "Hi")


def test_profile_edit_shows_field_errors_next_to_the_field(client, member):
    client.force_login(member)
    response = client.post("/settings/profile/", {"display_name": "x", "github_handle": "-bad-"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="errorlist" role="alert" id="id_github_handle_error"' in html
    assert 'class="form-row field-error"' in html
    assert "Letters, digits and single hyphens" in html
    member.refresh_from_db()
    assert member.display_name != "x"  # nothing saved on error


def test_token_page_creates_and_shows_the_secret_once(client, member):
    client.force_login(member)
    response = client.post("/settings/tokens/", {"name": "laptop", "expires_in": "30"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = re.search(r'<code id="token-secret">(agora_[^<]+)</code>', html).group(1)
    assert token_authenticate(secret) == member
    token = ApiToken.objects.get(user=member)
    assert token.expires_at is not None
    again = client.get("/settings/tokens/").content.decode()
    assert secret not in again
    assert "laptop" in again and token.prefix in again


def test_token_page_never_expiring_and_validation(client, member):
    client.force_login(member)
    client.post("/settings/tokens/", {"name": "forever", "expires_in": "never"})
    assert ApiToken.objects.get(user=member).expires_at is None
    response = client.post("/settings/tokens/", {"name": "", "expires_in": "30"})
    assert 'id="id_name_error"' in response.content.decode()
    assert ApiToken.objects.filter(user=member).count() == 1


def test_token_page_lists_only_my_tokens(client, member, other_member):
    token_create(user=other_member, name="not-yours")
    client.force_login(member)
    assert "not-yours" not in client.get("/settings/tokens/").content.decode()


def test_revoke_from_the_page(client, member):
    token, secret = token_create(user=member, name="old")
    client.force_login(member)
    response = client.post(f"/settings/tokens/{token.pk}/revoke/", follow=True)
    assert "revoked" in response.content.decode()
    assert token_authenticate(secret) is None


def test_cannot_revoke_another_users_token_from_the_page(client, member, other_member):
    theirs, secret = token_create(user=other_member, name="theirs")
    client.force_login(member)
    assert client.post(f"/settings/tokens/{theirs.pk}/revoke/").status_code == 404
    assert token_authenticate(secret) == other_member


def test_users_page_is_for_stewards_only(client, member, maintainer, steward):
    assert client.get("/users/").status_code == 302  # anonymous → login
    for user in (member, maintainer):
        client.force_login(user)
        assert client.get("/users/").status_code == 403
    client.force_login(steward)
    response = client.get("/users/")
    assert response.status_code == 200
    html = response.content.decode()
    assert member.email in html and maintainer.email in html


def test_users_page_filters(client, member, maintainer, steward):
    client.force_login(steward)
    html = client.get("/users/?role=maintainer").content.decode()
    assert maintainer.email in html and member.email not in html
    html = client.get(f"/users/?q={member.username}").content.decode()
    assert member.email in html and maintainer.email not in html


def test_steward_changes_a_role_on_the_page(client, steward, member):
    client.force_login(steward)
    response = client.post(f"/users/{member.pk}/role/", {"role": "maintainer"}, follow=True)
    assert response.redirect_chain[-1][0] == "/users/"
    assert "is now a maintainer" in response.content.decode()
    member.refresh_from_db()
    assert user_role(member) == "maintainer"
    assert AuditEntry.objects.filter(action="role.change", actor_id=steward.pk).count() == 1


def test_role_change_refusals_are_explained(client, steward):
    client.force_login(steward)
    response = client.post(f"/users/{steward.pk}/role/", {"role": "member"}, follow=True)
    assert "cannot demote the last steward" in response.content.decode()
    assert user_role(steward) == "steward"


@pytest.mark.parametrize("actor_role", ["member", "maintainer"])
def test_non_stewards_cannot_post_role_changes(client, actor_role, other_member):
    actor = UserFactory(role=actor_role)
    client.force_login(actor)
    assert client.post(f"/users/{other_member.pk}/role/", {"role": "steward"}).status_code == 403
    assert client.post(f"/users/{actor.pk}/role/", {"role": "steward"}).status_code == 403
    other_member.refresh_from_db()
    assert user_role(other_member) == "member"
    assert user_role(actor) == actor_role


def test_role_change_ignores_offsite_next(client, steward, member):
    client.force_login(steward)
    response = client.post(
        f"/users/{member.pk}/role/", {"role": "maintainer", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/users/"


def test_role_change_needs_csrf(steward, member):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(steward)
    assert csrf_client.post(f"/users/{member.pk}/role/", {"role": "steward"}).status_code == 403
    assert user_role(member) == "member"
