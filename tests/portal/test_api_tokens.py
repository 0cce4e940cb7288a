"""/api/v1/tokens/: your own tokens only; the secret is returned once and stored hashed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.accounts.tokens import token_create, token_digest
from portal.models import ApiToken, AuditEntry

pytestmark = pytest.mark.django_db


def test_create_returns_the_secret_once_and_stores_only_a_digest(api_as, api, member):
    response = api_as(member).post("/api/v1/tokens/", {"name": "laptop"})
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["token"]
    assert secret.startswith("agora_") and len(secret) > 40
    row = ApiToken.objects.get(pk=body["id"])
    assert row.digest == token_digest(secret)
    assert secret not in {row.digest, row.prefix, row.name}
    assert body["prefix"] == secret[:12]
    # Listing never shows it again.
    listed = api_as(member).get("/api/v1/tokens/").json()["results"]
    assert [t["id"] for t in listed] == [row.pk]
    assert "token" not in listed[0]
    # And it works.
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/me/").json()["username"] == member.username


def test_create_with_expiry(api_as, member):
    when = (timezone.now() + timedelta(days=3)).isoformat()
    body = api_as(member).post("/api/v1/tokens/", {"name": "ci", "expires_at": when}).json()
    assert body["expires_at"] is not None
    assert body["is_active"] is True


def test_expiry_in_the_past_is_refused(api_as, member):
    when = (timezone.now() - timedelta(minutes=1)).isoformat()
    response = api_as(member).post("/api/v1/tokens/", {"name": "old", "expires_at": when})
    assert response.status_code == 400
    assert "expires_at" in response.json()["error"]["fields"]
    assert not ApiToken.objects.exists()


def test_create_and_revoke_are_audited(api_as, member):
    client = api_as(member)
    token_id = client.post("/api/v1/tokens/", {"name": "audited"}).json()["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}/").status_code == 204
    actions = list(
        AuditEntry.objects.filter(object_id=str(token_id)).values_list("action", flat=True)
    )
    assert actions == ["token.create", "token.revoke"]


def test_revoked_token_stops_working(api_as, api, member):
    token, secret = token_create(user=member, name="short-lived")
    assert api_as(member).delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/me/").status_code == 401
    # Revoking twice is harmless.
    assert api_as(member).delete(f"/api/v1/tokens/{token.pk}/").status_code == 204


def test_another_users_token_is_not_found(api_as, member, other_member):
    theirs, _ = token_create(user=other_member, name="theirs")
    mine = api_as(member)
    assert mine.get(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
    response = mine.delete(f"/api/v1/tokens/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert mine.get("/api/v1/tokens/").json()["count"] == 0


def test_a_steward_cannot_revoke_someone_elses_token_either(api_as, steward, member):
    theirs, _ = token_create(user=member, name="theirs")
    assert api_as(steward).delete(f"/api/v1/tokens/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_anonymous_cannot_list_tokens(api):
    assert api.get("/api/v1/tokens/").status_code == 401
