"""/api/v1/users/: a directory for signed-in users; stewards change roles (audited)."""

from __future__ import annotations

import pytest

from portal.accounts.roles import user_role
from portal.models import AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_cannot_list_users(api, member):
    assert api.get("/api/v1/users/").status_code == 401


def test_list_is_paginated_with_roles(api_as, member, maintainer, steward):
    body = api_as(member).get("/api/v1/users/").json()
    assert body["count"] == 3
    roles = {row["username"]: row["role"] for row in body["results"]}
    assert roles == {
        member.username: "member",
        maintainer.username: "maintainer",
        steward.username: "steward",
    }


def test_list_does_not_run_a_query_per_user(api_as, member, django_assert_max_num_queries):
    UserFactory.create_batch(15)
    client = api_as(member)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/users/")
    assert response.json()["count"] == 16


def test_filter_by_role_and_search(api_as, member, maintainer, steward):
    client = api_as(member)
    only = lambda url: [row["id"] for row in client.get(url).json()["results"]]  # noqa: E731
    assert only("/api/v1/users/?role=maintainer") == [maintainer.pk]
    assert only("/api/v1/users/?role=steward") == [steward.pk]
    assert only("/api/v1/users/?role=member") == [member.pk]
    assert only(f"/api/v1/users/?search={steward.username}") == [steward.pk]
    assert client.get("/api/v1/users/?role=king").status_code == 400


def test_email_is_shown_to_self_and_stewards_only(api_as, member, other_member, steward):
    as_other = api_as(other_member).get(f"/api/v1/users/{member.pk}/").json()
    assert as_other["email"] is None
    assert api_as(member).get(f"/api/v1/users/{member.pk}/").json()["email"] == member.email
    assert api_as(steward).get(f"/api/v1/users/{member.pk}/").json()["email"] == member.email


def test_steward_promotes_a_member_and_it_is_audited(api_as, steward, member):
    response = api_as(steward).patch(f"/api/v1/users/{member.pk}/", {"role": "maintainer"})
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "maintainer"
    member.refresh_from_db()
    assert user_role(member) == "maintainer"
    entry = AuditEntry.objects.get(action="role.change")
    assert entry.actor_id == steward.pk
    assert entry.object_id == str(member.pk)
    assert entry.detail == {"user": member.email, "from": "member", "to": "maintainer"}


@pytest.mark.parametrize("actor_role", ["member", "maintainer"])
def test_non_stewards_cannot_change_roles(api_as, actor_role, other_member):
    actor = UserFactory(role=actor_role)
    response = api_as(actor).patch(f"/api/v1/users/{other_member.pk}/", {"role": "steward"})
    assert response.status_code == 403
    other_member.refresh_from_db()
    assert user_role(other_member) == "member"
    # Nor can they promote themselves.
    assert api_as(actor).patch(f"/api/v1/users/{actor.pk}/", {"role": "steward"}).status_code == 403
    assert not AuditEntry.objects.filter(action="role.change").exists()


def test_unknown_role_is_a_field_error(api_as, steward, member):
    response = api_as(steward).patch(f"/api/v1/users/{member.pk}/", {"role": "emperor"})
    assert response.status_code == 400
    assert "role" in response.json()["error"]["fields"]


def test_last_steward_cannot_be_demoted_but_one_of_two_can(api_as, steward):
    assert (
        api_as(steward).patch(f"/api/v1/users/{steward.pk}/", {"role": "member"}).status_code == 409
    )
    second = UserFactory(role="steward")
    response = api_as(second).patch(f"/api/v1/users/{steward.pk}/", {"role": "member"})
    assert response.status_code == 200
    assert response.json()["role"] == "member"
