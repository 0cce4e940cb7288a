"""GET/PATCH /api/v1/me/: the current user with roles, and their own profile edits."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_me_returns_the_user_with_roles(api_as, maintainer):
    body = api_as(maintainer).get("/api/v1/me/").json()
    assert body["id"] == maintainer.pk
    assert body["email"] == maintainer.email
    assert body["role"] == "maintainer"
    assert body["roles"] == ["member", "maintainer"]
    assert body["is_maintainer"] is True
    assert body["is_steward"] is False
    assert body["initials"] == maintainer.initials
    assert body["profile_url"] == f"/u/{maintainer.username}/"


def test_steward_has_every_role(api_as, steward):
    body = api_as(steward).get("/api/v1/me/").json()
    assert body["roles"] == ["member", "maintainer", "steward"]
    assert body["is_steward"] is True


def test_patch_me_updates_own_profile(api_as, member):
    response = api_as(member).patch(
        "/api/v1/me/",
        {"display_name": "Ada Lovelace", "github_handle": "@ada-l", "bio": "Engines."},
    )
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    assert (member.display_name, member.github_handle, member.bio) == (
        "Ada Lovelace",
        "ada-l",
        "Engines.",
    )
    assert response.json()["initials"] == "AL"


def test_patch_me_rejects_a_bad_github_handle_without_saving(api_as, member):
    response = api_as(member).patch("/api/v1/me/", {"github_handle": "not a handle!"})
    assert response.status_code == 400
    assert "github_handle" in response.json()["error"]["fields"]
    member.refresh_from_db()
    assert member.github_handle == ""


def test_patch_me_cannot_change_role(api_as, member):
    api_as(member).patch("/api/v1/me/", {"role": "steward"})
    assert api_as(member).get("/api/v1/me/").json()["role"] == "member"


@pytest.mark.parametrize("role", ["member", "maintainer", "steward"])
def test_fast_me_payload_matches_the_documented_serializer(role, rf):
    from portal.api.serializers import MeSerializer, me_payload
    from tests.factories import UserFactory

    user = UserFactory(role=role, github_handle="gh", bio="b")
    request = rf.get("/")
    request.user = user
    assert me_payload(user) == MeSerializer(user, context={"request": request}).data
