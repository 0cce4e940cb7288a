"""Bearer-token authentication: valid, expired, revoked, malformed; CSRF for sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.utils import timezone
from rest_framework.test import APIClient

from portal.accounts.tokens import token_authenticate, token_create, token_revoke
from portal.api.errors import DomainError
from portal.models import ApiToken

pytestmark = pytest.mark.django_db


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


def test_valid_token_authenticates_and_records_last_use(member):
    token, secret = token_create(user=member, name="cli")
    assert token.last_used_at is None
    response = bearer(f"Bearer {secret}").get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == member.username
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_last_use_is_stamped_at_most_once_a_minute_in_the_same_query(member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token, secret = token_create(user=member, name="cli")
    with CaptureQueriesContext(connection) as first:
        assert token_authenticate(secret) == member
    token.refresh_from_db()
    stamped = token.last_used_at
    assert stamped is not None
    assert token_authenticate(secret) == member
    token.refresh_from_db()
    assert token.last_used_at == stamped  # within the minute: not rewritten
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=an_hour_ago)
    assert token_authenticate(secret) == member
    token.refresh_from_db()
    assert token.last_used_at > an_hour_ago + timedelta(minutes=59)
    # PostgreSQL reads the owner and stamps the token in one round trip
    expected = 1 if connection.vendor == "postgresql" else 2
    assert len(first.captured_queries) == expected


@pytest.mark.parametrize("why", ["revoked", "expired", "inactive"])
def test_a_refused_token_is_not_stamped(member, why):
    token, secret = token_create(user=member, name="x")
    if why == "revoked":
        token_revoke(actor=member, token=token)
    elif why == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    else:
        member.is_active = False
        member.save()
    assert token_authenticate(secret) is None
    token.refresh_from_db()
    assert token.last_used_at is None


def test_expired_token_is_refused(member):
    token, secret = token_create(
        user=member, name="soon", expires_at=timezone.now() + timedelta(seconds=30)
    )
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(f"Bearer {secret}").get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "invalid, expired or revoked token",
    }


def test_revoked_token_is_refused(member):
    token, secret = token_create(user=member, name="gone")
    token_revoke(actor=member, token=token)
    assert bearer(f"Bearer {secret}").get("/api/v1/me/").status_code == 401


def test_token_of_a_deactivated_user_is_refused(member):
    _, secret = token_create(user=member, name="x")
    member.is_active = False
    member.save()
    assert bearer(f"Bearer {secret}").get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer agora_not-a-real-token", "Bearer not-even-prefixed"],
)
def test_malformed_or_unknown_bearer_header_is_401_in_the_error_shape(member, header):
    response = bearer(header).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_other_schemes_are_not_mistaken_for_tokens(member):
    _, secret = token_create(user=member, name="x")
    response = bearer(f"Token {secret}").get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_token_authenticate_only_accepts_exact_secrets(member):
    _, secret = token_create(user=member, name="x")
    assert token_authenticate(secret) == member
    assert token_authenticate(secret + "x") is None
    assert token_authenticate(secret.upper()) is None


def test_token_names_are_required(member):
    with pytest.raises(DomainError) as info:
        token_create(user=member, name="   ")
    assert info.value.fields == {"name": ["This field is required."]}


def test_bearer_requests_need_no_csrf_token(member):
    _, secret = token_create(user=member, name="ci")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.post("/api/v1/tokens/", {"name": "made-by-ci"}).status_code == 201


def test_session_post_without_csrf_token_is_refused(member):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=member.username, password="correct-horse-battery")
    response = client.post("/api/v1/tokens/", {"name": "sneaky"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "CSRF" in error["message"]
    assert not ApiToken.objects.exists()
    # Reads stay open to the session.
    assert client.get("/api/v1/me/").status_code == 200


def test_session_post_with_csrf_token_is_accepted(member):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=member.username, password="correct-horse-battery")
    csrf = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf
    response = client.post("/api/v1/tokens/", {"name": "ok"}, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content
