"""Editing a draft poll from its page: every rule of the create form, the explicit
electorate included; refused for anyone but its creator or a steward, and once open."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.models import Poll
from governance.services import poll_create, poll_open, poll_update
from portal.api.errors import DomainError
from portal.models import AuditEntry
from tests.factories import UserFactory
from tests.governance.test_pages_polls import _field_error, _form, _when

pytestmark = pytest.mark.django_db


def _draft(author, **rules) -> Poll:
    return poll_create(
        actor=author,
        title="Pick the mascot",
        method="single",
        options=["Owl", "Fox"],
        closes_at=timezone.now() + timedelta(days=3),
        **rules,
    )


def _url(poll: Poll) -> str:
    return f"/governance/polls/{poll.pk}/edit/"


def test_the_page_starts_from_the_draft_s_current_settings(client, maintainer) -> None:
    carol = UserFactory(role="member", username="carol")
    poll = _draft(maintainer, eligible_users=[carol], quorum_count=4)
    client.force_login(maintainer)
    page = client.get(f"/governance/polls/{poll.pk}/").content.decode()
    assert f'href="{_url(poll)}"' in page
    response = client.get(_url(poll))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Owl\nFox</textarea>" in html
    assert 'value="carol"' in html
    assert 'name="quorum_count" value="4"' in html
    assert 'name="open_now"' not in html
    assert "Save changes" in html


def test_author_changes_every_rule_and_the_explicit_electorate(client, maintainer) -> None:
    carol = UserFactory(role="member", username="carol")
    dave = UserFactory(role="member", username="dave")
    poll = _draft(maintainer, eligible_users=[carol])
    client.force_login(maintainer)
    response = client.post(
        _url(poll),
        _form(
            title="  Pick the mascot, again ",
            description="Second try",
            method="approval",
            options="Owl\nFox\n\nBadger",
            min_selections="1",
            max_selections="2",
            eligible_roles=["maintainer"],
            eligible_usernames="@dave, carol",
            weighting="contribution",
            quorum_count="3",
            quorum_percent="25",
            majority_kind="custom",
            majority_fraction="0.6",
            majority_base="eligible",
            opens_at=_when(days=1),
            closes_at=_when(days=4),
            extend_until_quorum="on",
            max_closes_at=_when(days=8),
            visibility="secret",
            is_public=None,
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/governance/polls/{poll.pk}/"
    poll.refresh_from_db()
    assert poll.title == "Pick the mascot, again" and poll.description == "Second try"
    assert list(poll.options.values_list("label", flat=True)) == ["Owl", "Fox", "Badger"]
    assert (poll.method, poll.status, poll.visibility, poll.is_public) == (
        "approval",
        "draft",
        "secret",
        False,
    )
    assert poll.eligible_roles == ["maintainer"]
    assert set(poll.eligible_users.all()) == {carol, dave}
    assert (poll.weighting, poll.quorum_count, poll.quorum_percent) == (
        "contribution",
        3,
        Decimal("25"),
    )
    assert (poll.majority_kind, poll.majority_fraction, poll.majority_base) == (
        "custom",
        Decimal("0.6"),
        "eligible",
    )
    assert (poll.min_selections, poll.max_selections) == (1, 2)
    assert poll.extend_until_quorum and poll.max_closes_at and poll.opens_at
    entry = AuditEntry.objects.filter(action="governance.poll.update").get()
    assert entry.detail["eligible_users"] == sorted([carol.pk, dave.pk])
    assert entry.detail["options"] == ["Owl", "Fox", "Badger"]


def test_emptying_the_member_list_clears_the_explicit_electorate(client, maintainer) -> None:
    poll = _draft(maintainer, eligible_users=[UserFactory(role="member")])
    client.force_login(maintainer)
    response = client.post(
        _url(poll), _form(method="single", options="Owl\nFox", eligible_usernames="")
    )
    assert response.status_code == 302
    assert not poll.eligible_users.exists()


def test_the_edited_electorate_is_what_opening_freezes(client, maintainer) -> None:
    carol = UserFactory(role="member", username="carol")
    outsider = UserFactory(role="member")
    poll = _draft(maintainer, eligible_roles=["steward"], eligible_users=[outsider])
    client.force_login(maintainer)
    client.post(
        _url(poll),
        _form(method="single", options="Owl\nFox", eligible_roles=[], eligible_usernames="carol"),
    )
    poll = poll_open(poll=poll, actor=maintainer)
    assert list(poll.electorate.values_list("user_id", flat=True)) == [carol.pk]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"method": "irv", "options": "Only one"}, "options", b"at least two options"),
        ({"method": "yes_no", "options": "A\nB"}, "options", b"this method takes no options"),
        ({"method": "single", "options": "A\nA"}, "options", b"options must be distinct"),
        (
            {"opens_at": _when(days=5), "closes_at": _when(days=2)},
            "closes_at",
            b"the poll must close after it opens",
        ),
        ({"eligible_usernames": "@nobody-here"}, "eligible_usernames", b"No member called"),
        (
            {"visibility": "secret", "allow_delegation": "on"},
            "allow_delegation",
            b"secret polls cannot use delegation",
        ),
        ({"title": "   "}, "title", b"This field is required"),
    ],
)
def test_bad_rules_come_back_on_their_field_and_change_nothing(
    client, maintainer, overrides, field, message
) -> None:
    poll = _draft(maintainer)
    client.force_login(maintainer)
    data = {"method": "single", "options": "Owl\nFox", **overrides}
    response = client.post(_url(poll), _form(**data))
    assert response.status_code in (400, 409), response.status_code
    assert _field_error(response, field), response.content.decode()[:3000]
    assert message in response.content
    poll.refresh_from_db()
    assert (poll.title, poll.method, poll.visibility) == ("Pick the mascot", "single", "named")
    assert list(poll.options.values_list("label", flat=True)) == ["Owl", "Fox"]


def test_a_steward_may_edit_someone_else_s_draft(client, maintainer, steward, settings) -> None:
    settings.AGORA_STEWARD_REQUIRES_2FA = False  # the 2FA gate has its own tests
    poll = _draft(maintainer)
    client.force_login(steward)
    response = client.post(_url(poll), _form(method="single", options="Owl\nFox\nBadger"))
    assert response.status_code == 302
    assert poll.options.count() == 3


def test_another_user_is_refused(client, maintainer) -> None:
    poll = _draft(maintainer)
    other = UserFactory(role="maintainer")
    client.force_login(other)
    assert client.get(_url(poll)).status_code == 403
    response = client.post(_url(poll), _form(title="Hijacked", method="single", options="A\nB"))
    assert response.status_code == 403
    poll.refresh_from_db()
    assert poll.title == "Pick the mascot"
    assert (
        f'href="{_url(poll)}"' not in client.get(f"/governance/polls/{poll.pk}/").content.decode()
    )


def test_anonymous_visitors_are_sent_to_log_in(client, maintainer) -> None:
    poll = _draft(maintainer)
    response = client.post(_url(poll), _form(title="Hijacked"))
    assert response.status_code == 302 and "/login" in response["Location"]
    poll.refresh_from_db()
    assert poll.title == "Pick the mascot"


def test_an_open_poll_is_refused(client, maintainer) -> None:
    poll = poll_open(poll=_draft(maintainer), actor=maintainer)
    client.force_login(maintainer)
    response = client.get(_url(poll))
    assert response.status_code == 409
    assert b"frozen" in response.content
    response = client.post(_url(poll), _form(title="Changed", method="single", options="A\nB"))
    assert response.status_code == 409
    poll.refresh_from_db()
    assert poll.title == "Pick the mascot"
    assert list(poll.options.values_list("label", flat=True)) == ["Owl", "Fox"]


# --- the service and the API ----------------------------------------------------------


def test_poll_update_sets_and_keeps_the_explicit_electorate(maintainer) -> None:
    carol, dave = UserFactory(role="member"), UserFactory(role="member")
    poll = _draft(maintainer, eligible_users=[carol])
    poll_update(actor=maintainer, poll=poll, quorum_count=2)  # None: unchanged
    assert list(poll.eligible_users.all()) == [carol]
    poll_update(actor=maintainer, poll=poll, eligible_users=[dave])
    assert list(poll.eligible_users.all()) == [dave]
    poll_update(actor=maintainer, poll=poll, eligible_users=[])
    assert not poll.eligible_users.exists()


def test_poll_update_refuses_another_user_and_an_open_poll(maintainer, member) -> None:
    poll = _draft(maintainer)
    with pytest.raises(DomainError) as err:
        poll_update(actor=member, poll=poll, eligible_users=[member])
    assert err.value.code == "not_allowed"
    assert not poll.eligible_users.exists()
    poll_open(poll=poll, actor=maintainer)
    with pytest.raises(DomainError) as err:
        poll_update(actor=maintainer, poll=poll, eligible_users=[member])
    assert err.value.code == "poll_frozen"
    assert not poll.eligible_users.exists()


def test_api_patch_replaces_the_eligible_members(api_as, maintainer) -> None:
    carol, dave = UserFactory(role="member"), UserFactory(role="member")
    poll = _draft(maintainer, eligible_users=[carol])
    response = api_as(maintainer).patch(
        f"/api/v1/polls/{poll.pk}/", {"eligible_users": [dave.pk]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert list(poll.eligible_users.all()) == [dave]
    response = api_as(maintainer).patch(
        f"/api/v1/polls/{poll.pk}/", {"eligible_users": [987654]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_user"
    assert list(poll.eligible_users.all()) == [dave]
