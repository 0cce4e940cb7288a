"""Stewards must enrol TOTP (StewardTwoFactorMiddleware); the TOTP login stage works."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.cache import cache

pytestmark = pytest.mark.django_db

ACTIVATE_URL = "/accounts/2fa/totp/activate/"


@pytest.fixture(autouse=True)
def _requirement_on(settings):
    settings.AGORA_STEWARD_REQUIRES_2FA = True
    cache.clear()


def totp_now(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def test_steward_without_totp_is_sent_to_enrol(client, steward):
    client.force_login(steward)
    for url in ("/", "/users/", f"/u/{steward.username}/", "/settings/tokens/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == ACTIVATE_URL


def test_steward_without_totp_can_still_reach_accounts_and_api(client, steward):
    client.force_login(steward)
    assert client.get("/accounts/email/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_steward_with_totp_is_let_through(client, steward):
    TOTP.activate(steward, generate_totp_secret())
    client.force_login(steward)
    assert client.get("/users/").status_code == 200


def test_members_and_maintainers_are_not_affected(client, member, maintainer):
    for user in (member, maintainer):
        client.force_login(user)
        assert client.get("/settings/tokens/").status_code == 200


def test_requirement_can_be_switched_off(client, steward, settings):
    settings.AGORA_STEWARD_REQUIRES_2FA = False
    client.force_login(steward)
    assert client.get("/users/").status_code == 200


def test_steward_enrols_totp_from_the_redirect(client, steward):
    assert (
        client.post(
            "/accounts/login/", {"login": steward.email, "password": "correct-horse-battery"}
        ).status_code
        == 302
    )
    assert client.get("/users/")["Location"] == ACTIVATE_URL
    # allauth asks for the password again before adding an authenticator.
    reauth = client.get(ACTIVATE_URL)["Location"]
    assert reauth.startswith("/accounts/reauthenticate/")
    response = client.post(reauth, {"password": "correct-horse-battery"})
    assert response["Location"] == ACTIVATE_URL
    page = client.get(ACTIVATE_URL).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page)
    secret = secret or re.search(r'value="([A-Z2-7]{16,})"[^>]*id="authenticator_secret"', page)
    assert secret, page
    response = client.post(ACTIVATE_URL, {"code": totp_now(secret.group(1))})
    assert response.status_code == 302, response.content.decode()
    assert Authenticator.objects.filter(user=steward, type=Authenticator.Type.TOTP).exists()
    assert client.get("/users/").status_code == 200


def test_login_with_totp_asks_for_the_code(client, steward):
    secret = generate_totp_secret()
    TOTP.activate(steward, secret)
    response = client.post(
        "/accounts/login/", {"login": steward.email, "password": "correct-horse-battery"}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now(secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(steward.pk)
    assert client.get("/users/").status_code == 200
